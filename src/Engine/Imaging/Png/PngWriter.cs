using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace LayerDiffusion.Native.Imaging.Png;

/// <summary>
/// Writes 8-bit PNGs (grey, grey+alpha, RGB or RGBA; non-interlaced) with optional text chunks. Each row gets the
/// filter with the smallest sum of absolute residuals (the usual heuristic); the stream is zlib (RFC 1950).
/// Text is written as tEXt when it is Latin-1 and as uncompressed UTF-8 iTXt otherwise, as PIL does, so A1111's
/// infotext under "parameters" round-trips either way.
/// </summary>
public static class PngWriter
{
    /// <summary>IDAT payloads are split at this size (any size is valid; small chunks help streaming readers).</summary>
    private const int IdatChunk = 256 * 1024;

    internal static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels,
        IEnumerable<KeyValuePair<string, string>>? text = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"bad image size {width}x{height}");
        byte colorType = channels switch
        {
            1 => 0,
            2 => 4,
            3 => 2,
            4 => 6,
            _ => throw new ArgumentException($"{channels} channels: PNG output takes 1 to 4"),
        };
        long rowBytes = (long)width * channels;
        if (pixels.Length != rowBytes * height)
            throw new ArgumentException($"{pixels.Length} bytes for a {width}x{height} image of {channels} channels");

        using var ms = new MemoryStream();
        ms.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)height);
        ihdr[8] = 8;           // bit depth
        ihdr[9] = colorType;
        ihdr[10] = 0;          // deflate
        ihdr[11] = 0;          // adaptive filtering
        ihdr[12] = 0;          // no interlace
        WriteChunk(ms, "IHDR", ihdr);

        if (text is not null)
            foreach (var (keyword, value) in text) WriteText(ms, keyword, value);

        var idat = Compress(pixels, (int)rowBytes, height, channels);
        for (int off = 0; off < idat.Length; off += IdatChunk)
            WriteChunk(ms, "IDAT", idat.AsSpan(off, Math.Min(IdatChunk, idat.Length - off)));
        if (idat.Length == 0) WriteChunk(ms, "IDAT", []);
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    /// <summary>Encodes and writes to <paramref name="path"/>; I/O failures are reported naming the file.</summary>
    public static void Write(string path, ReadOnlySpan<byte> pixels, int width, int height, int channels,
        IEnumerable<KeyValuePair<string, string>>? text = null)
    {
        var bytes = Encode(pixels, width, height, channels, text);
        try
        {
            File.WriteAllBytes(path, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LdException($"{path}: cannot write PNG ({e.Message})", e);
        }
    }

    private static byte[] Compress(ReadOnlySpan<byte> pixels, int rowBytes, int height, int bpp)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        {
            var prev = new byte[rowBytes];
            var best = new byte[rowBytes + 1];
            var trial = new byte[rowBytes + 1];
            for (int y = 0; y < height; y++)
            {
                var row = pixels.Slice(y * rowBytes, rowBytes);
                long bestScore = long.MaxValue;
                for (byte f = 0; f <= 4; f++)
                {
                    trial[0] = f;
                    long score = Filter(f, row, prev, trial.AsSpan(1), bpp);
                    if (score < bestScore)
                    {
                        bestScore = score;
                        trial.CopyTo(best, 0);
                    }
                }
                z.Write(best);
                row.CopyTo(prev);
            }
        }
        return ms.ToArray();
    }

    /// <summary>Applies filter <paramref name="f"/> to a row; returns the sum of |residual| as signed bytes.</summary>
    private static long Filter(byte f, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prev, Span<byte> dst, int bpp)
    {
        long score = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
            int pred = f switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => PngFilters.Paeth(a, b, c),
            };
            byte r = (byte)(row[i] - pred);
            dst[i] = r;
            score += Math.Abs((int)(sbyte)r); // widen first: |(sbyte)-128| overflows sbyte
        }
        return score;
    }

    private static void WriteText(Stream s, string keyword, string value)
    {
        if (keyword.Length is < 1 or > 79 || keyword.Any(ch => ch is < ' ' or > '\u00ff' || (ch > '~' && ch < '\u00a1')) || keyword != keyword.Trim())
            throw new ArgumentException($"PNG text keyword '{keyword}' must be 1-79 printable Latin-1 characters without leading or trailing spaces");
        var latin1 = Encoding.Latin1;
        var key = latin1.GetBytes(keyword);
        if (value.All(ch => ch is > '\0' and <= '\u00ff'))
        {
            var data = new byte[key.Length + 1 + value.Length];
            key.CopyTo(data, 0);
            latin1.GetBytes(value, data.AsSpan(key.Length + 1));
            WriteChunk(s, "tEXt", data);
            return;
        }
        // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text.
        var utf8 = Encoding.UTF8.GetBytes(value);
        var it = new byte[key.Length + 5 + utf8.Length];
        key.CopyTo(it, 0);
        utf8.CopyTo(it, key.Length + 5);
        WriteChunk(s, "iTXt", it);
    }

    private static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, head[4..]);
        s.Write(head);
        s.Write(data);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Of(head[4..], data));
        s.Write(crc);
    }
}
