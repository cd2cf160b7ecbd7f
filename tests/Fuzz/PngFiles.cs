using System.Buffers.Binary;
using System.Text;
using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Tests.Fuzz;

/// <summary>
/// Hostile PNGs made from a valid one by editing its chunks, with the CRCs recomputed so the edits reach the header,
/// decompression and pixel code rather than stopping at the checksum (one mutation damages a CRC on purpose).
/// </summary>
internal static class PngFiles
{
    public static byte[] Valid(int width, int height, int channels)
    {
        var px = new byte[width * height * channels];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 31 % 253);
        if (channels == 4) for (int i = 3; i < px.Length; i += 4) px[i] = 255;
        return PngWriter.Encode(px, width, height, channels, [new("parameters", "fuzz\nSteps: 2")]);
    }

    private sealed record Chunk(string Type, byte[] Data);

    private static List<Chunk> Chunks(byte[] png)
    {
        var list = new List<Chunk>();
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            int len = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            list.Add(new Chunk(Encoding.ASCII.GetString(png, pos + 4, 4), png.AsSpan(pos + 8, len).ToArray()));
            pos += 12 + len;
        }
        return list;
    }

    private static byte[] Assemble(IEnumerable<Chunk> chunks)
    {
        var ms = new MemoryStream();
        ms.Write(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });
        foreach (var c in chunks) WriteChunk(ms, c.Type, c.Data);
        return ms.ToArray();
    }

    public static void WriteChunk(Stream s, string type, byte[] data, uint? length = null)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(head, length ?? (uint)data.Length);
        Encoding.ASCII.GetBytes(type, head.AsSpan(4));
        s.Write(head);
        s.Write(data);
        uint c = 0xFFFFFFFF;
        foreach (byte b in head.AsSpan(4).ToArray().Concat(data))
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, ~c);
        s.Write(crc);
    }

    private static readonly uint[] Sizes = [0, 1, 63, 64, 65, 8191, 8192, 8193, 16384, 65535, 1u << 20, int.MaxValue, uint.MaxValue];

    public static (string What, byte[] Bytes) Mutate(byte[] valid, System.Random rng)
    {
        var chunks = Chunks(valid);
        var ihdr = chunks[0].Data;
        int kind = rng.Next(12);
        switch (kind)
        {
            case 0:
                BinaryPrimitives.WriteUInt32BigEndian(ihdr, Sizes[rng.Next(Sizes.Length)]);
                BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), Sizes[rng.Next(Sizes.Length)]);
                return ("size", Assemble(chunks));
            case 1:
                ihdr[8] = (byte)new[] { 0, 1, 2, 4, 8, 16, 3, 255 }[rng.Next(8)];
                ihdr[9] = (byte)new[] { 0, 2, 3, 4, 6, 1, 7 }[rng.Next(7)];
                return ("depth/colour", Assemble(chunks));
            case 2:
                ihdr[10 + rng.Next(3)] = (byte)rng.Next(256);
                return ("method/interlace byte", Assemble(chunks));
            case 3:
                return ("truncated", valid[..rng.Next(valid.Length)]);
            case 4:
                var idat = chunks.First(c => c.Type == "IDAT").Data;
                for (int i = 0, n = 1 + rng.Next(8); i < n; i++) idat[rng.Next(idat.Length)] = (byte)rng.Next(256);
                return ("IDAT bytes", Assemble(chunks));
            case 5:
                var cut = chunks.First(c => c.Type == "IDAT");
                chunks[chunks.IndexOf(cut)] = cut with { Data = cut.Data[..rng.Next(cut.Data.Length)] };
                return ("IDAT cut", Assemble(chunks));
            case 6:
                chunks.Insert(1 + rng.Next(chunks.Count - 1), new Chunk(rng.Next(2) == 0 ? "zzAb" : "ZZAB", new byte[rng.Next(64)]));
                return ("extra chunk", Assemble(chunks));
            case 7:
                chunks.Insert(1, new Chunk("IHDR", ihdr));
                return ("second IHDR", Assemble(chunks));
            case 8:
                chunks.RemoveAll(c => c.Type == (rng.Next(2) == 0 ? "IEND" : "IDAT"));
                return ("missing chunk", Assemble(chunks));
            case 9:
                var bad = valid.ToArray();
                bad[8 + 8 + 13 + rng.Next(4)] ^= 0x5A; // IHDR's CRC
                return ("bad CRC", bad);
            case 10:
                var ms = new MemoryStream();
                ms.Write(valid.AsSpan(0, 33));
                WriteChunk(ms, "tEXt", Encoding.Latin1.GetBytes("k\0v"), length: (uint)rng.Next(int.MaxValue));
                return ("lying chunk length", ms.ToArray());
            default:
                ihdr[9] = 3; // palette image, with a random palette and tRNS
                chunks.Insert(1, new Chunk("PLTE", Enumerable.Range(0, 3 * rng.Next(0, 300)).Select(i => (byte)i).ToArray()));
                chunks.Insert(2, new Chunk("tRNS", new byte[rng.Next(300)]));
                ihdr[8] = 8;
                return ("palette", Assemble(chunks));
        }
    }
}
