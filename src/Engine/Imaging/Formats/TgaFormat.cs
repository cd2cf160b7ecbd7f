using System.Buffers.Binary;
using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>
/// Truevision TGA: colour-mapped, true-colour and grey, raw or run-length encoded, 8/15/16/24/32-bit; decoded by
/// stb_image. TGA has no magic number, so a file is taken as TGA only by its .tga name and a header that fits the
/// format (stb_image's own test). The pixel data must cover the image: stb reads past the end as zeros.
/// </summary>
public sealed class TgaFormat : ImageFormat
{
    public static readonly TgaFormat Instance = new();

    public override string Name => "TGA";

    private const int HeaderBytes = 18;

    /// <summary>stb_image's stbi__tga_test on the 18-byte header, behind the .tga extension.</summary>
    public static bool Matches(ReadOnlySpan<byte> head, string path)
    {
        if (!path.EndsWith(".tga", StringComparison.OrdinalIgnoreCase) || head.Length < HeaderBytes) return false;
        int mapType = head[1], type = head[2], bpp = head[16];
        if (mapType > 1) return false;
        if (mapType == 1 ? type is not (1 or 9) || head[7] is not (8 or 15 or 16 or 24 or 32) || bpp is not (8 or 16)
                         : type is not (2 or 3 or 10 or 11)) return false;
        return BinaryPrimitives.ReadUInt16LittleEndian(head[12..]) >= 1 && BinaryPrimitives.ReadUInt16LittleEndian(head[14..]) >= 1
            && bpp is 8 or 15 or 16 or 24 or 32;
    }

    private readonly record struct Layout(int Width, int Height, int PixelBytes, bool Rle, long DataOffset);

    private static Layout Read(ReadOnlySpan<byte> head)
    {
        int mapType = head[1], type = head[2];
        long mapBytes = mapType == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(head[5..]) * (long)((head[7] + 7) / 8) : 0;
        return new Layout(BinaryPrimitives.ReadUInt16LittleEndian(head[12..]), BinaryPrimitives.ReadUInt16LittleEndian(head[14..]),
            (head[16] + 7) / 8, type >= 8, HeaderBytes + head[0] + mapBytes);
    }

    public override ImageHeader? Peek(ReadOnlySpan<byte> head, bool wholeFile, string path)
    {
        if (head.Length < HeaderBytes) return wholeFile ? throw Error(path, "truncated: the file ends inside the header") : null;
        var l = Read(head);
        // Run-length packets never take more than one byte beyond the raw pixels per 128 pixels.
        long raw = (long)l.Width * l.Height * l.PixelBytes;
        return new ImageHeader(l.Width, l.Height, l.DataOffset + raw + raw / 128 + (long)l.Width * l.Height / 128 + 1 + MetadataAllowance);
    }

    public override int Check(ReadOnlySpan<byte> file, ImageHeader header, string path)
    {
        var l = Read(file);
        long pixels = (long)l.Width * l.Height;
        if (!l.Rle)
        {
            long needed = l.DataOffset + pixels * l.PixelBytes;
            if (file.Length < needed)
                throw Error(path, $"truncated: a {l.Width}x{l.Height} TGA needs {needed:N0} bytes, the file has {file.Length:N0}");
            return ExifOrientation.Normal;
        }
        // Walk the packets: a header byte (top bit: a run of one pixel value, else literal pixels), 1–128 pixels each.
        long pos = l.DataOffset, covered = 0;
        while (covered < pixels)
        {
            if (pos >= file.Length)
                throw Error(path, $"truncated: the run-length data ends after {covered:N0} of {pixels:N0} pixels");
            int packet = file[(int)pos];
            int count = (packet & 0x7F) + 1;
            pos += 1 + ((packet & 0x80) != 0 ? l.PixelBytes : (long)count * l.PixelBytes);
            covered += count;
        }
        if (pos > file.Length) throw Error(path, $"truncated: the last run-length packet ends past the end of the file");
        return ExifOrientation.Normal;
    }

    public override PngImage Decode(byte[] file, ImageHeader header, string path) => StbDecoder.Decode(this, file, header, path);
}
