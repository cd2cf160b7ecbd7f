using System.IO.Compression;

namespace LayerDiffusion.Native.Imaging.Png;

/// <summary>From the concatenated IDAT stream to 8-bit interleaved pixels: inflate, unfilter, de-interlace, convert.</summary>
internal static class PngPixels
{
    /// <summary>Adam7 passes: x start, y start, x step, y step.</summary>
    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    public static PngImage Decode(PngHeader h, byte[] idat, byte[]? palette, byte[]? trns,
        IReadOnlyList<KeyValuePair<string, string>> text, string name)
    {
        if (h.ColorType == 3 && palette is null) throw new PngFormatException(name, "corrupt: palette image without a PLTE chunk");
        var passes = h.Interlaced ? Adam7 : [(0, 0, 1, 1)];

        long expected = 0;
        foreach (var p in passes)
        {
            var (pw, ph) = PassSize(h, p);
            if (pw > 0 && ph > 0) expected += (long)ph * (1 + h.RowBytes(pw));
        }
        if (expected > int.MaxValue) throw new PngFormatException(name, $"image of {h.Width}x{h.Height} needs more than 2 GiB of raw data");
        var raw = Inflate(idat, (int)expected, name);

        var conv = new SampleConverter(h, palette, trns, name);
        if ((long)h.Width * h.Height * conv.OutChannels > int.MaxValue)
            throw new PngFormatException(name, $"image of {h.Width}x{h.Height} is too large to hold in memory");
        var pixels = new byte[h.Width * h.Height * conv.OutChannels];
        int offset = 0;
        foreach (var p in passes)
        {
            var (pw, ph) = PassSize(h, p);
            if (pw == 0 || ph == 0) continue;
            int rowBytes = (int)h.RowBytes(pw);
            var prev = new byte[rowBytes];
            for (int y = 0; y < ph; y++)
            {
                byte filter = raw[offset];
                var row = raw.AsSpan(offset + 1, rowBytes);
                if (!PngFilters.Unfilter(filter, row, prev, h.FilterStride))
                    throw new PngFormatException(name, $"corrupt: row {y} uses unknown filter type {filter}");
                int dy = p.Y0 + y * p.Dy;
                int rowStart = dy * h.Width;
                for (int x = 0; x < pw; x++)
                    conv.Convert(row, x, pixels.AsSpan((rowStart + p.X0 + x * p.Dx) * conv.OutChannels, conv.OutChannels));
                row.CopyTo(prev);
                offset += 1 + rowBytes;
            }
        }
        return new PngImage(h.Width, h.Height, conv.OutChannels, pixels, text);
    }

    private static (int W, int H) PassSize(PngHeader h, (int X0, int Y0, int Dx, int Dy) p) =>
        (h.Width <= p.X0 ? 0 : (h.Width - p.X0 + p.Dx - 1) / p.Dx, h.Height <= p.Y0 ? 0 : (h.Height - p.Y0 + p.Dy - 1) / p.Dy);

    /// <summary>Deflate cannot compress better than about 1032:1, so fewer compressed bytes than this cannot fill the image.</summary>
    private const long MaxDeflateRatio = 1032;

    private static byte[] Inflate(byte[] idat, int expected, string name)
    {
        // Checked before allocating: a header can promise far more pixels than the data could hold.
        if (expected > idat.Length * MaxDeflateRatio + 1024)
            throw new PngFormatException(name, $"truncated image data: {idat.Length} compressed bytes cannot hold the {expected} bytes of scanlines the header declares");
        var raw = new byte[expected];
        int got = 0;
        try
        {
            using var z = new ZLibStream(new MemoryStream(idat), CompressionMode.Decompress);
            int n;
            while (got < expected && (n = z.Read(raw, got, expected - got)) > 0) got += n;
        }
        catch (InvalidDataException e)
        {
            throw new PngFormatException(name, $"corrupt image data ({e.Message})", e);
        }
        if (got < expected)
            throw new PngFormatException(name, $"truncated image data: {got} of {expected} bytes after decompression");
        return raw;
    }

    /// <summary>Reads one pixel's samples from an unfiltered row and writes it as 8-bit output channels.</summary>
    private sealed class SampleConverter
    {
        private readonly PngHeader _h;
        private readonly byte[]? _palette, _trns;
        private readonly string _name;
        private readonly int _paletteEntries;
        private readonly bool _colorKey;

        public SampleConverter(PngHeader h, byte[]? palette, byte[]? trns, string name)
        {
            _h = h;
            _palette = palette;
            _name = name;
            _paletteEntries = palette is null ? 0 : palette.Length / 3;
            // tRNS is meaningful for grey (2 bytes), RGB (6 bytes) and palette (one alpha per entry) only.
            _trns = h.ColorType switch
            {
                0 when trns is { Length: >= 2 } => trns,
                2 when trns is { Length: >= 6 } => trns,
                3 when trns is { Length: > 0 } => trns,
                _ => null,
            };
            _colorKey = _trns is not null && h.ColorType != 3;
            OutChannels = h.ColorType switch
            {
                0 => _trns is null ? 1 : 2,
                4 => 2,
                2 or 3 => _trns is null ? 3 : 4,
                _ => 4,
            };
        }

        public int OutChannels { get; }

        private int Sample(ReadOnlySpan<byte> row, int x, int s)
        {
            int d = _h.BitDepth;
            if (d == 8) return row[x * _h.Samples + s];
            if (d == 16) { int i = (x * _h.Samples + s) * 2; return row[i] << 8 | row[i + 1]; }
            int bit = x * d;   // low depths are single-sample (grey or palette)
            return (row[bit >> 3] >> (8 - d - (bit & 7))) & ((1 << d) - 1);
        }

        private byte To8(int v) => _h.BitDepth switch
        {
            16 => (byte)(v >> 8),
            8 => (byte)v,
            _ => (byte)(v * 255 / ((1 << _h.BitDepth) - 1)),
        };

        public void Convert(ReadOnlySpan<byte> row, int x, Span<byte> dst)
        {
            switch (_h.ColorType)
            {
                case 3:
                {
                    int idx = Sample(row, x, 0);
                    if (idx >= _paletteEntries) throw new PngFormatException(_name, $"corrupt: palette index {idx} but PLTE has {_paletteEntries} entries");
                    dst[0] = _palette![idx * 3];
                    dst[1] = _palette[idx * 3 + 1];
                    dst[2] = _palette[idx * 3 + 2];
                    if (_trns is not null) dst[3] = idx < _trns.Length ? _trns[idx] : (byte)255;
                    return;
                }
                case 0:
                {
                    int v = Sample(row, x, 0);
                    dst[0] = To8(v);
                    if (_colorKey) dst[1] = v == (_trns![0] << 8 | _trns[1]) ? (byte)0 : (byte)255;
                    return;
                }
                case 2:
                {
                    int r = Sample(row, x, 0), g = Sample(row, x, 1), b = Sample(row, x, 2);
                    dst[0] = To8(r); dst[1] = To8(g); dst[2] = To8(b);
                    if (_colorKey)
                    {
                        bool key = r == (_trns![0] << 8 | _trns[1]) && g == (_trns[2] << 8 | _trns[3]) && b == (_trns[4] << 8 | _trns[5]);
                        dst[3] = key ? (byte)0 : (byte)255;
                    }
                    return;
                }
                default:
                    for (int s = 0; s < _h.Samples; s++) dst[s] = To8(Sample(row, x, s));
                    return;
            }
        }
    }
}
