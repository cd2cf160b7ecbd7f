using System.Buffers.Binary;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>
/// A JPEG file's segments (ITU T.81 Annex B), walked without decoding: the frame header (size, components and their
/// sampling, baseline or progressive), the EXIF orientation of an APP1 "Exif" segment, and whether the entropy-coded
/// data reaches an end-of-image marker. stb_image, like libjpeg, pads a truncated scan with zeros and returns a
/// partly grey image; this walk is what turns that into an error (PIL, which Forge uses, refuses truncated files).
/// </summary>
internal sealed class JpegStructure
{
    public int Width { get; private set; }
    public int Height { get; private set; }
    public int Components { get; private set; }
    public bool Progressive { get; private set; }
    public int Orientation { get; private set; } = ExifOrientation.Normal;
    /// <summary>Bytes of entropy-coded data over all scans (stuffing and restart markers included).</summary>
    public long EntropyBytes { get; private set; }
    /// <summary>8x8 blocks per component, from the frame header's size and sampling factors.</summary>
    public long[] BlocksPerComponent { get; private set; } = [];

    private bool _frame, _scan;

    private const byte Soi = 0xD8, Eoi = 0xD9, Sos = 0xDA, App1 = 0xE1;

    /// <summary>
    /// Walks the segments. With <paramref name="frameOnly"/> it stops at the frame header and returns null when
    /// <paramref name="data"/> ends first and is not the whole file; otherwise it walks every scan to the
    /// end-of-image marker and throws if the file ends before it.
    /// </summary>
    public static JpegStructure? Walk(ReadOnlySpan<byte> data, bool frameOnly, bool wholeFile, string path)
    {
        var s = new JpegStructure();
        if (data.Length < 3 || data[0] != 0xFF || data[1] != Soi) throw Fail(path, "not a JPEG file (no start-of-image marker)");
        int pos = 2;
        while (true)
        {
            // Bytes between segments are skipped up to the next 0xFF, as libjpeg and stb_image do.
            int ff = pos < data.Length ? data[pos..].IndexOf((byte)0xFF) : -1;
            if (ff < 0) return s.End(frameOnly, wholeFile, path, data.Length);
            pos += ff;
            while (pos < data.Length && data[pos] == 0xFF) pos++;
            if (pos >= data.Length) return s.End(frameOnly, wholeFile, path, data.Length);
            byte marker = data[pos++];
            if (marker == Eoi)
            {
                if (!s._scan) throw Fail(path, "corrupt: end-of-image marker before any image data");
                s.CheckEntropyAmount(path);
                return s;
            }
            if (marker == Soi) throw Fail(path, $"corrupt: a second start-of-image marker at byte {pos - 2}");
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue; // standalone markers carry no length
            if (pos + 2 > data.Length) return s.End(frameOnly, wholeFile, path, data.Length);
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
            if (length < 2) throw Fail(path, $"corrupt: segment 0xFF{marker:X2} at byte {pos - 2} declares {length} bytes");
            if (pos + length > data.Length)
            {
                if (!wholeFile) return null;
                throw Fail(path, $"truncated: segment 0xFF{marker:X2} at byte {pos - 2} declares {length} bytes but only {data.Length - pos} remain");
            }
            var body = data.Slice(pos + 2, length - 2);
            pos += length;
            if (IsFrameHeader(marker))
            {
                s.ReadFrame(marker, body, path);
                if (frameOnly) return s;
            }
            else if (marker == Sos)
            {
                if (!s._frame) throw Fail(path, "corrupt: a scan before the frame header");
                pos = s.SkipEntropyData(data, pos, path);
            }
            else if (marker == App1 && body.StartsWith(ExifOrientation.ExifHeader) && s.Orientation == ExifOrientation.Normal)
                s.Orientation = ExifOrientation.Read(body);
        }
    }

    /// <summary>SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.</summary>
    private static bool IsFrameHeader(byte m) => m is >= 0xC0 and <= 0xCF && m is not (0xC4 or 0xC8 or 0xCC);

    private JpegStructure? End(bool frameOnly, bool wholeFile, string path, int length)
    {
        if (!wholeFile) return null;
        throw Fail(path, frameOnly || !_frame
            ? $"truncated: the file ends ({length:N0} bytes) before the frame header"
            : $"truncated: the file ends ({length:N0} bytes) before the end-of-image marker");
    }

    private void ReadFrame(byte marker, ReadOnlySpan<byte> body, string path)
    {
        if (_frame) throw Fail(path, "corrupt: a second frame header (multi-frame JPEG)");
        string? unsupported = marker switch
        {
            0xC3 => "lossless",
            0xC5 or 0xC6 or 0xC7 => "hierarchical",
            >= 0xC9 and <= 0xCF => "arithmetic-coded",
            _ => null,
        };
        if (unsupported is not null)
            throw Fail(path, $"{unsupported} JPEG (SOF{marker - 0xC0}) is not supported; save it as a baseline or progressive JPEG, or as PNG");
        if (body.Length < 6) throw Fail(path, $"corrupt: frame header of {body.Length} bytes");
        if (body[0] != 8) throw Fail(path, $"{body[0]}-bit JPEG is not supported (only 8-bit samples); save it as PNG");
        int height = BinaryPrimitives.ReadUInt16BigEndian(body[1..]), width = BinaryPrimitives.ReadUInt16BigEndian(body[3..]);
        int n = body[5];
        if (height == 0) throw Fail(path, "the frame header leaves the height to a later DNL marker, which is not supported");
        if (width == 0) throw Fail(path, "corrupt: the frame header declares width 0");
        if (n is not (1 or 3 or 4)) throw Fail(path, $"{n} colour components are not supported (1 grey, 3 YCbCr/RGB, 4 CMYK)");
        if (body.Length != 6 + 3 * n) throw Fail(path, $"corrupt: frame header of {body.Length} bytes for {n} components");
        int hMax = 1, vMax = 1;
        for (int c = 0; c < n; c++)
        {
            int hs = body[7 + 3 * c] >> 4, vs = body[7 + 3 * c] & 15;
            if (hs is < 1 or > 4 || vs is < 1 or > 4) throw Fail(path, $"corrupt: component {c} has sampling factors {hs}x{vs}");
            hMax = Math.Max(hMax, hs);
            vMax = Math.Max(vMax, vs);
        }
        var blocks = new long[n];
        for (int c = 0; c < n; c++)
        {
            int hs = body[7 + 3 * c] >> 4, vs = body[7 + 3 * c] & 15;
            long cw = ((long)width * hs + hMax - 1) / hMax, ch = ((long)height * vs + vMax - 1) / vMax;
            blocks[c] = ((cw + 7) / 8) * ((ch + 7) / 8);
        }
        (Width, Height, Components, Progressive, BlocksPerComponent, _frame) = (width, height, n, marker == 0xC2, blocks, true);
    }

    /// <summary>From the first byte after a scan header to the next marker that is not a restart or a stuffed 0xFF00.</summary>
    private int SkipEntropyData(ReadOnlySpan<byte> data, int pos, string path)
    {
        int start = pos;
        while (true)
        {
            int ff = data[pos..].IndexOf((byte)0xFF);
            if (ff < 0 || pos + ff + 1 >= data.Length)
                throw Fail(path, $"truncated: the file ends ({data.Length:N0} bytes) inside the image data");
            pos += ff;
            byte next = data[pos + 1];
            if (next == 0x00 || next is >= 0xD0 and <= 0xD7) pos += 2;
            else if (next == 0xFF) pos++;
            else break;
        }
        EntropyBytes += pos - start;
        _scan = true;
        return pos;
    }

    /// <summary>
    /// A header can declare far more pixels than its data codes. Huffman codes are at least one bit: a baseline
    /// block takes at least two (its DC difference and an end-of-block), and a progressive file's first DC scan at
    /// least one bit per block of the first component. Fewer bytes than that cannot be this image.
    /// </summary>
    private void CheckEntropyAmount(string path)
    {
        long minBits = Progressive ? BlocksPerComponent[0] : 2 * BlocksPerComponent.Sum();
        if (EntropyBytes * 8 < minBits)
            throw Fail(path, $"truncated or corrupt: {EntropyBytes:N0} bytes of image data cannot code the {Width}x{Height} image the frame header declares " +
                $"(at least {(minBits + 7) / 8:N0} bytes)");
    }

    private static ImageFormatException Fail(string path, string message) => new(path, "JPEG: " + message);
}
