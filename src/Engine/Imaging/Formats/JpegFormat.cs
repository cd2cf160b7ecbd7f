using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>JPEG (baseline and progressive, 8-bit, grey/YCbCr/CMYK), checked by <see cref="JpegStructure"/>, decoded by stb_image.</summary>
public sealed class JpegFormat : ImageFormat
{
    public static readonly JpegFormat Instance = new();

    public override string Name => "JPEG";

    public static bool Matches(ReadOnlySpan<byte> head) => head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF;

    /// <summary>
    /// Worst-case entropy coding is under 7 bytes per sample for a baseline block (63 AC codes of up to 27 bits, with
    /// byte stuffing); progressive refinement scans add less than that again. 16 bytes a sample bounds both.
    /// </summary>
    private const long MaxBytesPerSample = 16;

    public override ImageHeader? Peek(ReadOnlySpan<byte> head, bool wholeFile, string path)
    {
        var s = JpegStructure.Walk(head, frameOnly: true, wholeFile, path);
        return s is null ? null : new ImageHeader(s.Width, s.Height, MetadataAllowance + (long)s.Width * s.Height * s.Components * MaxBytesPerSample);
    }

    public override int Check(ReadOnlySpan<byte> file, ImageHeader header, string path) =>
        JpegStructure.Walk(file, frameOnly: false, wholeFile: true, path)!.Orientation;

    public override PngImage Decode(byte[] file, ImageHeader header, string path) => StbDecoder.Decode(this, file, header, path);
}
