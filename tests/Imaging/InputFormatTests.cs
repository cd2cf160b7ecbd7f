using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.Imaging.Png;
using Xunit;
using static LayerDiffusion.Native.Tests.Imaging.HandMadeImages;

namespace LayerDiffusion.Native.Tests.Imaging;

/// <summary>
/// Every input format through <see cref="InputImage"/>, the one way input images are read: hand-made BMP, TGA and
/// GIF files decode to their exact pixels, JPEG (baseline and progressive, 4:4:4, 4:2:0 and grey) to libjpeg's
/// pixels within a few levels; unsupported formats, truncated files and headers that promise more than the file
/// holds are refused by name before or instead of decoding.
/// </summary>
public sealed class InputFormatTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Save(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private PngImage Read(string name, byte[] bytes) => InputImage.Read("--fg", Save(name, bytes), ImageLimits.Default);

    private string Refused(string name, byte[] bytes, string option = "--fg")
    {
        var e = Assert.Throws<InvalidOptionException>(() => InputImage.Read(option, Save(name, bytes), ImageLimits.Default));
        Assert.StartsWith(option + ": " + Path.Combine(_dir, name), e.Message);
        return e.Message;
    }

    /// <summary>Where a JPEG's baseline frame header (0xFFC0) starts.</summary>
    private static int FrameHeader(byte[] jpeg)
    {
        for (int i = 2; i < jpeg.Length - 1; i++) if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) return i;
        throw new InvalidOperationException("no SOF0");
    }

    /// <summary>Assert.Contains with the whole message in the failure.</summary>
    private static void Mentions(string part, string message) => Assert.True(message.Contains(part, StringComparison.Ordinal), $"'{part}' not in: {message}");

    /// <summary>The largest difference between two byte arrays of the same length.</summary>
    private static int MaxDiff(byte[] a, byte[] b)
    {
        Assert.Equal(a.Length, b.Length);
        int max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    [Fact]
    public void Bmp24BottomUpWithRowPadding()
    {
        var rgb = Pattern(5, 3, 3); // 15 bytes a row: one byte of padding
        var img = Read("a.bmp", Bmp24(rgb, 5, 3));
        Assert.Equal((5, 3, 3), (img.Width, img.Height, img.Channels));
        Assert.Equal(rgb, img.Pixels);
    }

    [Fact]
    public void Bmp32TopDownKeepsItsAlpha()
    {
        var rgba = Pattern(4, 3, 4);
        var img = Read("b.bmp", Bmp32TopDown(rgba, 4, 3));
        Assert.Equal((4, 3, 4), (img.Width, img.Height, img.Channels));
        Assert.Equal(rgba, img.Pixels);
    }

    [Fact]
    public void Bmp8Palette()
    {
        byte[][] palette = [[10, 20, 30], [200, 100, 0], [0, 255, 7]];
        byte[] indices = [0, 1, 2, 1, 2, 0, 2, 2, 1, 0, 0, 1];
        var img = Read("p.bmp", Bmp8(indices, palette, 3, 4));
        Assert.Equal((3, 4, 3), (img.Width, img.Height, img.Channels));
        Assert.Equal(indices.SelectMany(i => palette[i]).ToArray(), img.Pixels);
    }

    [Theory]
    [InlineData(3, false, false)]
    [InlineData(3, true, false)]
    [InlineData(4, false, true)]
    [InlineData(1, true, true)]
    public void TgaRawAndRunLength(int channels, bool topDown, bool rle)
    {
        var px = Pattern(6, 5, channels);
        // A run of equal pixels so that the RLE file has run packets as well as literal ones.
        for (int x = 1; x < 5; x++) px.AsSpan(0, channels).CopyTo(px.AsSpan(x * channels));
        var img = Read("t.tga", Tga(px, 6, 5, channels, topDown, rle));
        Assert.Equal((6, 5, channels), (img.Width, img.Height, img.Channels));
        Assert.Equal(px, img.Pixels);
    }

    [Fact]
    public void TgaIsRecognisedOnlyByItsName()
    {
        var tga = Tga(Pattern(2, 2, 3), 2, 2, 3);
        Assert.Equal(2, Read("upper.TGA", tga).Width);
        Mentions("is not an image format ld reads (PNG, JPEG, BMP, GIF (first frame) or TGA", Refused("t.img", tga));
    }

    [Fact]
    public void GifFirstFrameWithTransparency()
    {
        byte[][] palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]];
        byte[] first = [0, 1, 2, 3, 3, 2, 1, 0, 1, 1, 2, 2];
        byte[] second = [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
        var img = Read("a.gif", Gif(4, 3, palette, transparentIndex: 3, first, second));
        Assert.Equal((4, 3, 4), (img.Width, img.Height, img.Channels));
        // Index 3 is transparent: nothing is drawn there, so the first frame shows transparent black.
        var expected = first.SelectMany(i => i == 3 ? new byte[] { 0, 0, 0, 0 } : [.. palette[i], 255]).ToArray();
        Assert.Equal(expected, img.Pixels);
    }

    [Fact]
    public void JpegProgressive444MatchesItsPattern()
    {
        var img = Read("p.jpg", Progressive444);
        Assert.Equal((16, 16, 3), (img.Width, img.Height, img.Channels));
        var want = new byte[16 * 16 * 3];
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
                (want[(y * 16 + x) * 3], want[(y * 16 + x) * 3 + 1], want[(y * 16 + x) * 3 + 2]) = ((byte)(16 * x), (byte)(16 * y), 128);
        // libjpeg decodes this file within 3 levels of the pattern (quality 95); a different IDCT may add 2.
        Assert.InRange(MaxDiff(want, img.Pixels), 0, 5);
    }

    [Fact]
    public void JpegBaselineAndProgressive420MatchLibjpeg()
    {
        foreach (var (name, bytes) in new[] { ("b.jpg", Baseline420), ("p.jpg", Progressive420) })
        {
            var img = Read(name, bytes);
            Assert.Equal((13, 9, 3), (img.Width, img.Height, img.Channels));
            // Odd sizes and chroma upsampling: stb_image and libjpeg both use the "fancy" triangle filter.
            Assert.InRange(MaxDiff(LibjpegPixels420, img.Pixels), 0, 3);
        }
    }

    [Fact]
    public void JpegGreyIsOneChannel()
    {
        var img = Read("g.jpg", Grey);
        Assert.Equal((11, 7, 1), (img.Width, img.Height, img.Channels));
        var want = new byte[11 * 7];
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 11; x++) want[y * 11 + x] = (byte)(40 + 10 * x + 5 * y);
        Assert.InRange(MaxDiff(want, img.Pixels), 0, 3);
    }

    [Theory]
    [InlineData("RIFF\0\0\0\0WEBPVP8 ", "WebP is not supported")]
    [InlineData("II*\0\b\0\0\0", "TIFF images are not supported")]
    [InlineData("8BPS\0\u0001", "Photoshop (PSD) images are not supported")]
    [InlineData("\0\0\0\u0018ftypavif", "AVIF images are not supported")]
    [InlineData("\0\0\0\u0018ftypheic", "HEIF/HEIC images are not supported")]
    [InlineData("hello, world", "is not an image format ld reads")]
    [InlineData("", "is empty (0 bytes)")]
    public void UnsupportedFormatsAreNamed(string head, string message)
    {
        var bytes = head.Select(c => (byte)c).Concat(new byte[40]).Take(head.Length == 0 ? 0 : 64).ToArray();
        Mentions(message, Refused("x.webp", bytes));
    }

    [Fact]
    public void TruncatedJpegIsRefusedNotPadded()
    {
        // stb_image, like libjpeg, would decode these with grey bottoms.
        foreach (int cut in new[] { 3, 30, 150, Baseline420.Length - 40, Baseline420.Length - 2 })
            Mentions("truncated", Refused($"cut{cut}.jpg", Baseline420[..cut]));
        foreach (int cut in new[] { 300, Progressive420.Length - 60 })
            Mentions("truncated", Refused($"pcut{cut}.jpg", Progressive420[..cut]));
    }

    [Fact]
    public void JpegHeaderLyingAboutItsSizeIsRefused()
    {
        var lying = Baseline420.ToArray();
        int sof = FrameHeader(lying);
        // 4000x4000 in a 357-byte file: its few bytes of image data cannot code 250,000 blocks per component.
        lying[sof + 5] = 4000 >> 8; lying[sof + 6] = 4000 & 255; lying[sof + 7] = 4000 >> 8; lying[sof + 8] = 4000 & 255;
        Mentions("cannot code the 4000x4000 image", Refused("lie.jpg", lying));
    }

    [Fact]
    public void UnsupportedJpegVariantsAreNamed()
    {
        var arithmetic = Baseline420.ToArray();
        int sof = FrameHeader(arithmetic);
        arithmetic[sof + 1] = 0xC9;
        Mentions("arithmetic-coded JPEG (SOF9) is not supported", Refused("a.jpg", arithmetic));
        var twelve = Baseline420.ToArray();
        twelve[sof + 4] = 12;
        Mentions("12-bit JPEG is not supported", Refused("t.jpg", twelve));
    }

    [Fact]
    public void SizeLimitComesBeforeAnyDecoding()
    {
        string path = Save("big.jpg", Progressive444);
        var e = Assert.Throws<InvalidOptionException>(() => InputImage.Open("--bg", path, new ImageLimits(100)));
        Assert.Contains("is 16x16 = 256 pixels, over the limit of 100", e.Message);
    }

    [Fact]
    public void TruncatedOrLyingBmpTgaGifAreRefused()
    {
        var bmp = Bmp24(Pattern(5, 3, 3), 5, 3);
        Mentions("truncated: a 5x3 24-bit BMP", Refused("cut.bmp", bmp[..^3]));
        var tall = bmp.ToArray();
        tall[22] = 200; // height 3 → 200 rows that the file does not have
        Mentions("truncated: a 5x200 24-bit BMP", Refused("tall.bmp", tall));
        var rle = bmp.ToArray();
        rle[30] = 1;
        Mentions("run-length encoded (RLE) BMP is not supported", Refused("rle.bmp", rle));

        var tga = Tga(Pattern(6, 5, 3), 6, 5, 3, rle: true);
        Mentions("truncated: the last run-length packet ends past the end", Refused("cut.tga", tga[..^20]));
        Mentions("truncated: the run-length data ends after 0 of 30 pixels", Refused("cut1.tga", tga[..18]));
        var raw = Tga(Pattern(6, 5, 3), 6, 5, 3);
        Mentions("truncated: a 6x5 TGA", Refused("cut2.tga", raw[..^1]));

        var gif = Gif(4, 3, [[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 0]], null, new byte[12]);
        Mentions("truncated", Refused("cut.gif", gif[..^4]));
        Mentions("truncated", Refused("head.gif", gif[..20]));
    }

    [Fact]
    public void AnimatedGifIsReadOnlyToItsFirstFrame()
    {
        byte[][] palette = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 0]];
        // Forty frames: the first is the image, the rest are never decoded.
        var frames = Enumerable.Range(0, 40).Select(i => new byte[] { (byte)(i % 4), 1, 2, 3 }).ToArray();
        var gif = Gif(2, 2, palette, null, frames);
        var img = Read("long.gif", gif);
        Assert.Equal(new byte[] { 1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 0, 0, 0, 255 }, img.Pixels);
    }
}
