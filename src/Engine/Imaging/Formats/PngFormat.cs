using System.Buffers.Binary;
using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>PNG through the engine's own reader (<see cref="PngReader"/>), with the orientation of an eXIf chunk.</summary>
public sealed class PngFormat : ImageFormat
{
    public static readonly PngFormat Instance = new();

    public override string Name => "PNG";

    public override ImageHeader? Peek(ReadOnlySpan<byte> head, bool wholeFile, string path)
    {
        if (head.Length < PngReader.HeaderBytes && !wholeFile) return null;
        var (w, h, max) = PngReader.PeekSize(head, path);
        return new ImageHeader(w, h, max);
    }

    /// <summary>
    /// The orientation in an eXIf chunk, as PIL reads one (and strips a stray "Exif\0\0" before the TIFF data); the
    /// rest of the structure is the reader's to check, with its CRCs, when it decodes.
    /// </summary>
    public override int Check(ReadOnlySpan<byte> file, ImageHeader header, string path)
    {
        int pos = 8;
        while (pos <= file.Length - 12)
        {
            uint len = BinaryPrimitives.ReadUInt32BigEndian(file[pos..]);
            if (len > (uint)(file.Length - pos - 12)) break;
            var type = file.Slice(pos + 4, 4);
            if (type.SequenceEqual("eXIf"u8)) return ExifOrientation.Read(file.Slice(pos + 8, (int)len));
            if (type.SequenceEqual("IEND"u8)) break;
            pos += 12 + (int)len;
        }
        return ExifOrientation.Normal;
    }

    public override PngImage Decode(byte[] file, ImageHeader header, string path) => PngReader.Decode(file, path);
}
