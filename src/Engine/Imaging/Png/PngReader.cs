using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace LayerDiffusion.Native.Imaging.Png;

/// <summary>
/// Reads PNG files (ISO 15948): grey at 1/2/4/8/16 bits, grey+alpha, RGB and RGBA at 8/16 bits, palette at 1/2/4/8
/// bits with optional tRNS, all five row filters, non-interlaced and Adam7. Output is 8-bit (16-bit samples keep
/// their high byte; low-depth grey is scaled to 0-255). Text chunks (tEXt, zTXt, iTXt) are returned; other
/// ancillary chunks are skipped. Every failure names the file and what is wrong with it.
/// </summary>
public static class PngReader
{
    /// <summary>Largest image accepted (pixels); beyond this a header is taken as corrupt or hostile.</summary>
    public const long MaxPixels = 1L << 28;
    private const int MaxTextBytes = 16 << 20;

    public static PngImage Read(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PngFormatException(path, "file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PngFormatException(path, $"cannot read ({e.Message})", e);
        }
        return Decode(data, path);
    }

    /// <summary>Bytes a PNG's signature and IHDR chunk take at the start of the file.</summary>
    public const int HeaderBytes = 33;

    /// <summary>
    /// The image size from the first <see cref="HeaderBytes"/> bytes, and the most bytes a sane PNG of that size takes:
    /// the raw scanlines (filter bytes included, with room for Adam7), a quarter more for a compressor that expands
    /// incompressible data, and 64 MiB for ancillary chunks (text, ICC profiles, EXIF).
    /// </summary>
    public static (int Width, int Height, long MaxFileBytes) PeekSize(ReadOnlySpan<byte> head, string name)
    {
        if (head.Length < 8 || !head[..8].SequenceEqual(PngWriter.Signature))
            throw new PngFormatException(name, head.Length < 8 ? $"not a PNG file ({head.Length} bytes)" : "not a PNG file (bad signature)");
        if (head.Length < HeaderBytes) throw new PngFormatException(name, "truncated: the file ends inside the IHDR chunk");
        if (BinaryPrimitives.ReadUInt32BigEndian(head[8..]) != 13 || !head.Slice(12, 4).SequenceEqual("IHDR"u8))
            throw new PngFormatException(name, "corrupt: the first chunk is not a 13-byte IHDR");
        var h = PngHeader.Parse(head.Slice(16, 13), name);
        long raw = (long)h.Height * (1 + h.RowBytes(h.Width)) + 16L * h.Height;
        return (h.Width, h.Height, raw + raw / 4 + (64L << 20));
    }

    /// <summary>Decodes PNG bytes; <paramref name="name"/> (a path or a label) prefixes every error message.</summary>
    public static PngImage Decode(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length < 8 || !data[..8].SequenceEqual(PngWriter.Signature))
            throw new PngFormatException(name, data.Length < 8 ? $"not a PNG file ({data.Length} bytes)" : "not a PNG file (bad signature)");

        PngHeader? header = null;
        byte[]? palette = null, trns = null;
        var idat = new MemoryStream();
        var text = new List<KeyValuePair<string, string>>();
        bool sawIdat = false, idatEnded = false, sawEnd = false;
        int pos = 8;
        while (pos < data.Length)
        {
            if (data.Length - pos < 12)
                throw new PngFormatException(name, $"truncated: chunk header at byte {pos} runs past the end of the file");
            uint len = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            var typeBytes = data.Slice(pos + 4, 4);
            string type = ChunkType(typeBytes);
            if (len > int.MaxValue || len > (uint)(data.Length - pos - 12))
                throw new PngFormatException(name, $"truncated: chunk '{type}' at byte {pos} declares {len} bytes but only {Math.Max(0, data.Length - pos - 12)} remain");
            var body = data.Slice(pos + 8, (int)len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)len)..]);
            if (crc != Crc32.Of(typeBytes, body))
                throw new PngFormatException(name, $"corrupt: CRC mismatch in chunk '{type}' at byte {pos}");
            if (header is null && type != "IHDR")
                throw new PngFormatException(name, $"corrupt: first chunk is '{type}', expected IHDR");
            if (sawIdat && type != "IDAT") idatEnded = true;

            switch (type)
            {
                case "IHDR":
                    if (header is not null) throw new PngFormatException(name, "corrupt: second IHDR chunk");
                    header = PngHeader.Parse(body, name);
                    break;
                case "PLTE":
                    if (len % 3 != 0 || len == 0 || len > 768) throw new PngFormatException(name, $"corrupt: PLTE of {len} bytes");
                    palette = body.ToArray();
                    break;
                case "tRNS":
                    trns = body.ToArray();
                    break;
                case "IDAT":
                    if (idatEnded) throw new PngFormatException(name, "corrupt: IDAT chunks are not consecutive");
                    sawIdat = true;
                    idat.Write(body);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
                case "tEXt":
                case "zTXt":
                case "iTXt":
                    if (PngText.TryParse(type, body, MaxTextBytes, out var entry)) text.Add(entry);
                    break;
                default:
                    // Bit 5 of the first letter clear = critical: we cannot render the image without understanding it.
                    if ((typeBytes[0] & 0x20) == 0) throw new PngFormatException(name, $"unsupported critical chunk '{type}'");
                    break;
            }
            pos += 12 + (int)len;
            if (sawEnd) break;
        }
        if (header is null) throw new PngFormatException(name, "truncated: no IHDR chunk");
        if (!sawIdat) throw new PngFormatException(name, "truncated: no image data (IDAT)");
        if (!sawEnd) throw new PngFormatException(name, "truncated: the file ends before the IEND chunk");
        return PngPixels.Decode(header, idat.ToArray(), palette, trns, text, name);
    }

    private static string ChunkType(ReadOnlySpan<byte> t)
    {
        foreach (byte b in t)
            if (!((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z'))) return "0x" + Convert.ToHexString(t);
        return Encoding.ASCII.GetString(t);
    }

    /// <summary>Inflates a zlib stream, refusing more than <paramref name="limit"/> bytes of output.</summary>
    internal static byte[] Inflate(byte[] compressed, int limit)
    {
        using var z = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var outMs = new MemoryStream();
        var buf = new byte[65536];
        int n;
        while ((n = z.Read(buf)) > 0)
        {
            if (outMs.Length + n > limit) throw new InvalidDataException($"inflates past {limit} bytes");
            outMs.Write(buf, 0, n);
        }
        return outMs.ToArray();
    }
}
