using System.Buffers.Binary;
using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>
/// GIF 87a/89a: the first frame at the logical screen's size (as browsers show a still and PIL opens one), RGBA
/// with the frame's transparency; decoded by stb_image. Only the file up to the end of the first frame is read, so
/// a long animation costs nothing; that frame's data must end properly (stb would leave a cut frame transparent).
/// </summary>
public sealed class GifFormat : ImageFormat
{
    public static readonly GifFormat Instance = new();

    public override string Name => "GIF";

    public override bool ReadsPrefix => true;

    public static bool Matches(ReadOnlySpan<byte> head) => head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8);

    private const int ScreenDescriptorEnd = 13;

    public override ImageHeader? Peek(ReadOnlySpan<byte> head, bool wholeFile, string path)
    {
        if (head.Length < ScreenDescriptorEnd) return wholeFile ? throw Error(path, "truncated: the file ends inside the screen descriptor") : null;
        int w = BinaryPrimitives.ReadUInt16LittleEndian(head[6..]), h = BinaryPrimitives.ReadUInt16LittleEndian(head[8..]);
        if (w == 0 || h == 0) throw Error(path, $"corrupt: the logical screen is {w}x{h}");
        // The first frame's LZW codes are at most 12 bits per pixel, in sub-blocks of 255 bytes behind a length byte.
        return new ImageHeader(w, h, ScreenDescriptorEnd + 768 + 2L * w * h + MetadataAllowance);
    }

    /// <summary>Walks the blocks to the end of the first image's data; the file may be cut after it, never before.</summary>
    public override int Check(ReadOnlySpan<byte> file, ImageHeader header, string path)
    {
        int pos = ScreenDescriptorEnd + ColorTableBytes(file[10]);
        while (true)
        {
            if (pos >= file.Length) throw Error(path, $"truncated: the file ends ({file.Length:N0} bytes) before the first frame's data is complete");
            byte block = file[pos++];
            switch (block)
            {
                case 0x21: // extension: a label, then sub-blocks
                    pos = SkipSubBlocks(file, pos + 1, path);
                    break;
                case 0x2C: // image descriptor: position and size (9 bytes), an optional local colour table, the LZW code size
                    if (pos + 10 > file.Length) throw Error(path, "truncated: the file ends inside the first image descriptor");
                    pos += 9 + ColorTableBytes(file[pos + 8]);
                    if (pos >= file.Length) throw Error(path, "truncated: the file ends inside the first frame's colour table");
                    int codeSize = file[pos++];
                    if (codeSize is < 1 or > 11) throw Error(path, $"corrupt: LZW minimum code size {codeSize}");
                    SkipSubBlocks(file, pos, path);
                    return ExifOrientation.Normal;
                case 0x3B:
                    throw Error(path, "corrupt: the file ends (trailer) before any image");
                default:
                    throw Error(path, $"corrupt: unknown block 0x{block:X2} at byte {pos - 1}");
            }
        }
    }

    private static int ColorTableBytes(byte flags) => (flags & 0x80) != 0 ? 3 * (2 << (flags & 7)) : 0;

    private int SkipSubBlocks(ReadOnlySpan<byte> file, int pos, string path)
    {
        while (true)
        {
            if (pos >= file.Length) throw Error(path, $"truncated: the file ends ({file.Length:N0} bytes) inside a data block");
            int n = file[pos];
            pos += 1 + n;
            if (n == 0) return pos;
        }
    }

    public override PngImage Decode(byte[] file, ImageHeader header, string path) => StbDecoder.Decode(this, file, header, path);
}
