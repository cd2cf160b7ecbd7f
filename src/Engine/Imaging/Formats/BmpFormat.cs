using System.Buffers.Binary;
using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>
/// Windows BMP: core (12-byte) and info headers of 40, 56, 108 and 124 bytes, 1/4/8-bit palette, 16/24/32-bit
/// colour (bit fields included), bottom-up or top-down; decoded by stb_image. RLE and embedded JPEG/PNG are refused
/// by name. The pixel array must be all there: stb reads past the end as zeros.
/// </summary>
public sealed class BmpFormat : ImageFormat
{
    public static readonly BmpFormat Instance = new();

    public override string Name => "BMP";

    public static bool Matches(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 'B' && head[1] == 'M';

    private readonly record struct Layout(int Width, int Height, int Bpp, long Offset, long Stride);

    private Layout? Read(ReadOnlySpan<byte> head, bool wholeFile, string path)
    {
        if (head.Length < 18) return wholeFile ? throw Error(path, $"truncated: {head.Length} bytes, shorter than the file header") : null;
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(head[10..]);
        uint hsz = BinaryPrimitives.ReadUInt32LittleEndian(head[14..]);
        if (hsz is not (12 or 40 or 56 or 108 or 124))
            throw Error(path, $"an info header of {hsz} bytes is not supported (12, 40, 56, 108 or 124)");
        if (head.Length < 14 + hsz) return wholeFile ? throw Error(path, "truncated: the file ends inside the info header") : null;
        long width, height;
        int planes, bpp;
        uint compression = 0;
        if (hsz == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(head[18..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(head[20..]);
            planes = BinaryPrimitives.ReadUInt16LittleEndian(head[22..]);
            bpp = BinaryPrimitives.ReadUInt16LittleEndian(head[24..]);
        }
        else
        {
            width = BinaryPrimitives.ReadInt32LittleEndian(head[18..]);
            height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(head[22..])); // negative: top-down rows
            planes = BinaryPrimitives.ReadUInt16LittleEndian(head[26..]);
            bpp = BinaryPrimitives.ReadUInt16LittleEndian(head[28..]);
            compression = BinaryPrimitives.ReadUInt32LittleEndian(head[30..]);
        }
        if (width <= 0 || height <= 0 || width > int.MaxValue || height > int.MaxValue)
            throw Error(path, $"corrupt: the header declares a {width}x{height} image");
        if (planes != 1) throw Error(path, $"corrupt: {planes} colour planes (must be 1)");
        if (bpp is not (1 or 4 or 8 or 16 or 24 or 32)) throw Error(path, $"{bpp} bits per pixel is not supported (1, 4, 8, 16, 24 or 32)");
        string? unsupported = compression switch
        {
            0 => null,
            3 when bpp is 16 or 32 => null,
            1 or 2 => "run-length encoded (RLE) BMP is not supported; save it uncompressed or as PNG",
            4 or 5 => "BMP with embedded JPEG/PNG data is not supported; save the image itself",
            _ => $"compression type {compression} is not supported for {bpp}-bit BMP",
        };
        if (unsupported is not null) throw Error(path, unsupported);
        long stride = (width * bpp + 31) / 32 * 4;
        return new Layout((int)width, (int)height, bpp, offset, stride);
    }

    public override ImageHeader? Peek(ReadOnlySpan<byte> head, bool wholeFile, string path) =>
        Read(head, wholeFile, path) is { } l ? new ImageHeader(l.Width, l.Height, l.Offset + l.Stride * l.Height + MetadataAllowance) : null;

    public override int Check(ReadOnlySpan<byte> file, ImageHeader header, string path)
    {
        var l = Read(file, wholeFile: true, path)!.Value;
        long needed = l.Offset + l.Stride * (l.Height - 1) + (l.Width * (long)l.Bpp + 7) / 8;
        if (file.Length < needed)
            throw Error(path, $"truncated: a {l.Width}x{l.Height} {l.Bpp}-bit BMP with pixels from byte {l.Offset:N0} needs {needed:N0} bytes, the file has {file.Length:N0}");
        return ExifOrientation.Normal;
    }

    public override PngImage Decode(byte[] file, ImageHeader header, string path) => StbDecoder.Decode(this, file, header, path);
}
