using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.Imaging.Formats;
using LayerDiffusion.Native.Imaging.Png;
using Xunit;
using static LayerDiffusion.Native.Tests.Imaging.HandMadeImages;

namespace LayerDiffusion.Native.Tests.Imaging;

/// <summary>
/// EXIF orientation, checked against the definitions of the EXIF 2.3 specification (tag 0x0112: where the stored 0th
/// row and 0th column are seen) rather than against a transform table: all eight values, both TIFF byte orders, in a
/// JPEG APP1 segment and in a PNG eXIf chunk, on a non-square image so that the axis swaps show.
/// </summary>
public sealed class ExifOrientationTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private enum Side { Top, Bottom, Left, Right }

    /// <summary>EXIF 2.3, Orientation: the visual side of the stored 0th row, and of the stored 0th column.</summary>
    private static (Side Row0, Side Column0) Definition(int orientation) => orientation switch
    {
        1 => (Side.Top, Side.Left),
        2 => (Side.Top, Side.Right),
        3 => (Side.Bottom, Side.Right),
        4 => (Side.Bottom, Side.Left),
        5 => (Side.Left, Side.Top),
        6 => (Side.Right, Side.Top),
        7 => (Side.Right, Side.Bottom),
        _ => (Side.Left, Side.Bottom),
    };

    /// <summary>
    /// Where a stored pixel (x, y) of a w x h image is seen: its row lies along the 0th row's side at distance y from
    /// it, its column along the 0th column's side at distance x.
    /// </summary>
    private static (int X, int Y) Seen(int orientation, int x, int y, int w, int h)
    {
        var (row0, col0) = Definition(orientation);
        bool swap = row0 is Side.Left or Side.Right;
        int outW = swap ? h : w, outH = swap ? w : h;
        int vx = 0, vy = 0;
        // Distance from the 0th row's side is y; distance from the 0th column's side is x.
        void Place(Side side, int distance)
        {
            switch (side)
            {
                case Side.Top: vy = distance; break;
                case Side.Bottom: vy = outH - 1 - distance; break;
                case Side.Left: vx = distance; break;
                default: vx = outW - 1 - distance; break;
            }
        }
        Place(row0, y);
        Place(col0, x);
        return (vx, vy);
    }

    private static void AssertOriented(PngImage stored, PngImage seen, int orientation)
    {
        int w = stored.Width, h = stored.Height, c = stored.Channels;
        bool swap = orientation >= 5;
        Assert.Equal((swap ? h : w, swap ? w : h, c), (seen.Width, seen.Height, seen.Channels));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var (vx, vy) = Seen(orientation, x, y, w, h);
                Assert.True(stored.Pixels.AsSpan((y * w + x) * c, c).SequenceEqual(seen.Pixels.AsSpan((vy * seen.Width + vx) * c, c)),
                    $"orientation {orientation}: stored ({x}, {y}) should be seen at ({vx}, {vy})");
            }
    }

    public static TheoryData<int, bool> EveryOrientationAndByteOrder()
    {
        var data = new TheoryData<int, bool>();
        for (int o = 1; o <= 8; o++) { data.Add(o, true); data.Add(o, false); }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryOrientationAndByteOrder))]
    public void JpegApp1(int orientation, bool littleEndian)
    {
        string plain = Path.Combine(_dir, "plain.jpg"), turned = Path.Combine(_dir, $"o{orientation}.jpg");
        File.WriteAllBytes(plain, Baseline420);
        File.WriteAllBytes(turned, WithApp1(Baseline420, ExifTiff(orientation, littleEndian)));
        var stored = InputImage.Read("--init", plain, ImageLimits.Default);
        var open = InputImage.Open("--init", turned, ImageLimits.Default);
        Assert.Equal(orientation, open.Orientation);
        // The size before decoding is the size as seen: img2img sizes the generation from it.
        Assert.Equal(orientation >= 5 ? (9, 13) : (13, 9), (open.Width, open.Height));
        AssertOriented(stored, open.Decode(), orientation);
    }

    [Theory]
    [InlineData(6, true)]
    [InlineData(3, false)]
    [InlineData(8, true)]
    public void PngExif(int orientation, bool littleEndian)
    {
        var px = Pattern(5, 3, 4);
        string path = Path.Combine(_dir, "e.png");
        File.WriteAllBytes(path, PngWithExif(px, 5, 3, 4, ExifTiff(orientation, littleEndian)));
        var seen = InputImage.Read("--fg", path, ImageLimits.Default);
        AssertOriented(new PngImage(5, 3, 4, px, []), seen, orientation);
    }

    [Fact]
    public void DamagedOrOddExifIsIgnored()
    {
        var good = ExifTiff(6, true);
        Assert.Equal(6, ExifOrientation.Read(good));
        Assert.Equal(6, ExifOrientation.Read([.. "Exif\0\0"u8, .. good])); // PNG writers that keep the JPEG prefix
        Assert.Equal(1, ExifOrientation.Read(ExifTiff(9, true)));          // out of range
        Assert.Equal(1, ExifOrientation.Read(ExifTiff(0, false)));
        for (int cut = 0; cut < good.Length - 4; cut++) Assert.Equal(1, ExifOrientation.Read(good.AsSpan(0, cut)));
        var farIfd = good.ToArray();
        farIfd[4] = 0xF0; // IFD0 offset past the end
        Assert.Equal(1, ExifOrientation.Read(farIfd));
        var manyEntries = good.ToArray();
        manyEntries[8] = 0xFF; manyEntries[9] = 0xFF; // 65535 entries declared: the two present are read, the walk stops at the end
        Assert.Equal(6, ExifOrientation.Read(manyEntries));
        manyEntries[22] = 0x13; // and without an orientation among them
        Assert.Equal(1, ExifOrientation.Read(manyEntries));
        var wrongType = good.ToArray();
        wrongType[24] = 4; // LONG instead of SHORT
        Assert.Equal(1, ExifOrientation.Read(wrongType));
    }
}
