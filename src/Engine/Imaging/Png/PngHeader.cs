using System.Buffers.Binary;

namespace LayerDiffusion.Native.Imaging.Png;

/// <summary>The IHDR chunk, validated: size, bit depth allowed for the colour type, deflate, standard filtering.</summary>
internal sealed record PngHeader(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
{
    /// <summary>Samples per pixel as stored (palette images store one index).</summary>
    public int Samples => ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
    public int BitsPerPixel => Samples * BitDepth;
    /// <summary>The filter's byte distance to the "left" pixel (at least 1).</summary>
    public int FilterStride => Math.Max(1, BitsPerPixel / 8);
    public long RowBytes(int width) => ((long)width * BitsPerPixel + 7) / 8;

    public static PngHeader Parse(ReadOnlySpan<byte> b, string name)
    {
        if (b.Length != 13) throw new PngFormatException(name, $"corrupt: IHDR has {b.Length} bytes, expected 13");
        uint w = BinaryPrimitives.ReadUInt32BigEndian(b), h = BinaryPrimitives.ReadUInt32BigEndian(b[4..]);
        int depth = b[8], color = b[9];
        if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue) throw new PngFormatException(name, $"corrupt: image size {w}x{h}");
        if ((long)w * h > PngReader.MaxPixels) throw new PngFormatException(name, $"image of {w}x{h} pixels is larger than the {PngReader.MaxPixels}-pixel limit");
        bool ok = color switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => false,
        };
        if (!ok) throw new PngFormatException(name, $"unsupported or invalid bit depth {depth} for colour type {color}");
        if (b[10] != 0) throw new PngFormatException(name, $"unknown compression method {b[10]}");
        if (b[11] != 0) throw new PngFormatException(name, $"unknown filter method {b[11]}");
        if (b[12] > 1) throw new PngFormatException(name, $"unknown interlace method {b[12]}");
        return new PngHeader((int)w, (int)h, depth, color, b[12] == 1);
    }
}
