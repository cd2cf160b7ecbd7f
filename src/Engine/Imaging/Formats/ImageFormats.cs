using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>
/// Which format a file is, from its first bytes (never from its name, except TGA, which has no magic number).
/// Formats that are recognised but not read (WebP, TIFF, PSD, AVIF/HEIF, QOI) are refused by name.
/// </summary>
public static class ImageFormats
{
    /// <summary>Bytes that hold every magic number checked here.</summary>
    public const int SniffBytes = 32;

    /// <summary>The formats input images may be in, as the README and error messages list them.</summary>
    public const string Supported = "PNG, JPEG, BMP, GIF (first frame) or TGA";

    /// <summary>
    /// Why WebP is refused. The decoders the project can use are either native (SkiaSharp: libSkiaSharp beside the
    /// NativeAOT binary, a whole 2D graphics library for one format) or flagged for crafted-image security flaws
    /// (ImageSharp 2); stb_image has no WebP.
    /// </summary>
    public const string WebPNote = "WebP is not supported (no maintained pure-C# WebP decoder is available to this engine); " +
        "convert it to PNG first (e.g. dwebp IMAGE.webp -o IMAGE.png)";

    public static ImageFormat Detect(ReadOnlySpan<byte> head, string path)
    {
        if (head.StartsWith(PngWriter.Signature)) return PngFormat.Instance;
        if (JpegFormat.Matches(head)) return JpegFormat.Instance;
        if (GifFormat.Matches(head)) return GifFormat.Instance;
        if (BmpFormat.Matches(head)) return BmpFormat.Instance;
        if (Unsupported(head) is { } message) throw new ImageFormatException(path, message);
        if (TgaFormat.Matches(head, path)) return TgaFormat.Instance;
        throw new ImageFormatException(path, head.Length == 0
            ? "is empty (0 bytes), not an image"
            : $"is not an image format ld reads ({Supported}; first bytes {Convert.ToHexString(head[..Math.Min(8, head.Length)])})");
    }

    private static ReadOnlySpan<byte> JxlBox => [0, 0, 0, 0x0C, (byte)'J', (byte)'X', (byte)'L', (byte)' '];

    private static string? Unsupported(ReadOnlySpan<byte> h)
    {
        if (h.Length >= 12 && h.StartsWith("RIFF"u8) && h.Slice(8, 4).SequenceEqual("WEBP"u8)) return WebPNote;
        string? name = null;
        if (h.StartsWith("II*\0"u8) || h.StartsWith("MM\0*"u8)) name = "TIFF";
        else if (h.StartsWith("8BPS"u8)) name = "Photoshop (PSD)";
        else if (h.StartsWith("qoif"u8)) name = "QOI";
        else if (h.Length >= 12 && h.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            var brand = h.Slice(8, 4);
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8)) name = "AVIF";
            else if (brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("mif1"u8) || brand.SequenceEqual("msf1"u8)) name = "HEIF/HEIC";
        }
        else if ((h.Length >= 2 && h[0] == 0xFF && h[1] == 0x0A) || h.StartsWith(JxlBox)) name = "JPEG XL";
        return name is null ? null : $"{name} images are not supported; convert it to PNG or JPEG ({Supported} are read)";
    }
}
