using System.Buffers.Binary;
using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>
/// EXIF orientation (TIFF tag 0x0112 in IFD0), applied as browsers and Forge do (PIL's ImageOps.exif_transpose, which
/// Forge's fix_image calls on every uploaded image): a camera stores the sensor's rows and records how to turn them.
/// Values 2–8 are applied, anything else (absent, 1, out of range, a damaged directory) leaves the image as stored.
/// </summary>
public static class ExifOrientation
{
    public const int Normal = 1;
    private const ushort OrientationTag = 0x0112;
    private const ushort TypeShort = 3;

    /// <summary>The "Exif\0\0" header that precedes the TIFF data in a JPEG APP1 segment (and, against the spec, in some PNG eXIf chunks).</summary>
    public static ReadOnlySpan<byte> ExifHeader => "Exif\0\0"u8;

    /// <summary>True when orientation <paramref name="o"/> swaps width and height (the four transposing ones).</summary>
    public static bool SwapsAxes(int o) => o is >= 5 and <= 8;

    /// <summary>
    /// The orientation in TIFF data ("II*\0" little-endian or "MM\0*" big-endian, then the offset of IFD0), or
    /// <see cref="Normal"/> when there is none; every offset is bounds-checked, so damaged EXIF is ignored, not fatal.
    /// </summary>
    public static int Read(ReadOnlySpan<byte> tiff)
    {
        if (tiff.StartsWith(ExifHeader)) tiff = tiff[ExifHeader.Length..];
        if (tiff.Length < 8) return Normal;
        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I') little = true;
        else if (tiff[0] == 'M' && tiff[1] == 'M') little = false;
        else return Normal;
        if (U16(tiff[2..], little) != 42) return Normal;
        uint ifd = U32(tiff[4..], little);
        if (ifd < 8 || ifd > tiff.Length - 2) return Normal;
        int count = U16(tiff[(int)ifd..], little);
        for (int i = 0; i < count; i++)
        {
            long entry = ifd + 2 + 12L * i;
            if (entry + 12 > tiff.Length) return Normal;
            var e = tiff.Slice((int)entry, 12);
            if (U16(e, little) != OrientationTag) continue;
            // One SHORT, stored in the first two bytes of the value field.
            if (U16(e[2..], little) != TypeShort || U32(e[4..], little) < 1) return Normal;
            int value = U16(e[8..], little);
            return value is >= 1 and <= 8 ? value : Normal;
        }
        return Normal;
    }

    /// <summary>
    /// The image as it is meant to be seen: PIL's transposes for orientations 2–8 (2 mirror, 3 rotate 180°, 4 flip,
    /// 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise). Text chunks are kept.
    /// </summary>
    public static PngImage Apply(PngImage img, int orientation)
    {
        if (orientation is < 2 or > 8) return img;
        int w = img.Width, h = img.Height, c = img.Channels;
        bool swap = SwapsAxes(orientation);
        int outW = swap ? h : w, outH = swap ? w : h;
        var src = img.Pixels;
        var dst = new byte[src.Length];
        for (int y = 0; y < outH; y++)
            for (int x = 0; x < outW; x++)
            {
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };
                src.AsSpan((sy * w + sx) * c, c).CopyTo(dst.AsSpan((y * outW + x) * c));
            }
        return new PngImage(outW, outH, c, dst, img.Text);
    }

    private static ushort U16(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);

    private static uint U32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
}
