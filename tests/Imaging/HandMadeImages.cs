using System.Buffers.Binary;
using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Tests.Imaging;

/// <summary>
/// Small image files written byte by byte from the format specifications, so that the decoders are checked against
/// files no decoder under test produced: BMP, TGA and GIF encoders, EXIF segments in both byte orders, and JPEG
/// files made once with libjpeg-turbo's cjpeg (with the pixels libjpeg's djpeg decodes from them).
/// </summary>
internal static class HandMadeImages
{
    /// <summary>A test pattern of 1–4 channels (neighbouring pixels differ) as interleaved bytes.</summary>
    public static byte[] Pattern(int w, int h, int channels)
    {
        var px = new byte[w * h * channels];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < channels; c++)
                    px[(y * w + x) * channels + c] = (byte)(c == 3 ? 40 + 17 * ((x + 2 * y) % 12) : (x * 19 + y * 37 + c * 71) % 256);
        return px;
    }

    // ---- BMP (Microsoft's BITMAPFILEHEADER + BITMAPINFOHEADER / BITMAPV4HEADER) ----

    /// <summary>24-bit BI_RGB, bottom-up rows padded to 4 bytes, BGR order.</summary>
    public static byte[] Bmp24(byte[] rgb, int w, int h)
    {
        int stride = (w * 3 + 3) / 4 * 4;
        var rows = new byte[stride * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    rows[(h - 1 - y) * stride + x * 3 + c] = rgb[(y * w + x) * 3 + (2 - c)];
        return Bmp(40, w, h, 24, 0, [], rows);
    }

    /// <summary>32-bit BITMAPV4HEADER with BI_BITFIELDS masks (alpha in the top byte), top-down rows (negative height).</summary>
    public static byte[] Bmp32TopDown(byte[] rgba, int w, int h)
    {
        var rows = new byte[w * h * 4];
        for (int i = 0; i < w * h; i++)
        {
            rows[i * 4] = rgba[i * 4 + 2];
            rows[i * 4 + 1] = rgba[i * 4 + 1];
            rows[i * 4 + 2] = rgba[i * 4];
            rows[i * 4 + 3] = rgba[i * 4 + 3];
        }
        var masks = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(masks, 0x00FF0000);
        BinaryPrimitives.WriteUInt32LittleEndian(masks.AsSpan(4), 0x0000FF00);
        BinaryPrimitives.WriteUInt32LittleEndian(masks.AsSpan(8), 0x000000FF);
        BinaryPrimitives.WriteUInt32LittleEndian(masks.AsSpan(12), 0xFF000000);
        return Bmp(108, w, -h, 32, 3, masks, rows);
    }

    /// <summary>8-bit palette (BGRX entries), bottom-up rows padded to 4 bytes.</summary>
    public static byte[] Bmp8(byte[] indices, byte[][] paletteRgb, int w, int h)
    {
        int stride = (w + 3) / 4 * 4;
        var rows = new byte[stride * h];
        for (int y = 0; y < h; y++) indices.AsSpan(y * w, w).CopyTo(rows.AsSpan((h - 1 - y) * stride));
        var palette = new byte[paletteRgb.Length * 4];
        for (int i = 0; i < paletteRgb.Length; i++)
            (palette[i * 4], palette[i * 4 + 1], palette[i * 4 + 2]) = (paletteRgb[i][2], paletteRgb[i][1], paletteRgb[i][0]);
        return Bmp(40, w, h, 8, 0, palette, rows, colors: paletteRgb.Length);
    }

    /// <param name="afterHeader">Bytes between the info header's fixed fields and the pixels (V4 masks and colour space, or a palette).</param>
    private static byte[] Bmp(int hsz, int w, int h, int bpp, int compression, byte[] afterHeader, byte[] rows, int colors = 0)
    {
        // A V4 header's fields past biClrImportant (masks, colour space) are part of its 108 bytes.
        int fixedPart = Math.Min(hsz, 40);
        int headerExtra = hsz - fixedPart;
        var extra = new byte[Math.Max(headerExtra, 0)];
        afterHeader.AsSpan(0, Math.Min(afterHeader.Length, extra.Length)).CopyTo(extra);
        var palette = headerExtra > 0 ? [] : afterHeader;
        int offset = 14 + hsz + palette.Length;
        var f = new byte[offset + rows.Length];
        f[0] = (byte)'B'; f[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(2), f.Length);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(14), hsz);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(18), w);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(22), h);
        BinaryPrimitives.WriteInt16LittleEndian(f.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(f.AsSpan(28), (short)bpp);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(30), compression);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(34), rows.Length);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(46), colors);
        extra.CopyTo(f.AsSpan(14 + fixedPart));
        palette.CopyTo(f.AsSpan(14 + hsz));
        rows.CopyTo(f.AsSpan(offset));
        return f;
    }

    // ---- TGA (Truevision TGA 2.0 specification) ----

    /// <summary>True-colour (type 2) or grey (type 3); bottom-up rows unless <paramref name="topDown"/>; BGR(A) order.</summary>
    public static byte[] Tga(byte[] px, int w, int h, int channels, bool topDown = false, bool rle = false)
    {
        var header = new byte[18];
        header[2] = (byte)((channels == 1 ? 3 : 2) + (rle ? 8 : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(12), (ushort)w);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(14), (ushort)h);
        header[16] = (byte)(8 * channels);
        header[17] = (byte)((channels == 4 ? 8 : 0) | (topDown ? 0x20 : 0));
        var pixels = new List<byte[]>();
        for (int row = 0; row < h; row++)
        {
            int y = topDown ? row : h - 1 - row;
            for (int x = 0; x < w; x++)
            {
                var p = px.AsSpan((y * w + x) * channels, channels).ToArray();
                if (channels >= 3) (p[0], p[2]) = (p[2], p[0]);
                pixels.Add(p);
            }
        }
        var data = new MemoryStream();
        data.Write(header);
        if (!rle) foreach (var p in pixels) data.Write(p);
        else
        {
            // Runs of equal pixels as run packets, everything else as literal packets, at most 128 pixels each.
            int i = 0;
            while (i < pixels.Count)
            {
                int run = 1;
                while (i + run < pixels.Count && run < 128 && pixels[i + run].AsSpan().SequenceEqual(pixels[i])) run++;
                if (run > 1)
                {
                    data.WriteByte((byte)(0x80 | (run - 1)));
                    data.Write(pixels[i]);
                    i += run;
                    continue;
                }
                int lit = 1;
                while (i + lit < pixels.Count && lit < 128 && !(i + lit + 1 < pixels.Count && pixels[i + lit].AsSpan().SequenceEqual(pixels[i + lit + 1]))) lit++;
                data.WriteByte((byte)(lit - 1));
                for (int k = 0; k < lit; k++) data.Write(pixels[i + k]);
                i += lit;
            }
        }
        return data.ToArray();
    }

    // ---- GIF (GIF89a specification) ----

    /// <summary>
    /// A GIF89a with a 4-colour global table and the given frames (colour indices 0–3, each covering the screen);
    /// with <paramref name="transparentIndex"/> every frame has a graphic control extension marking it transparent.
    /// </summary>
    public static byte[] Gif(int w, int h, byte[][] paletteRgb, int? transparentIndex, params byte[][] frames)
    {
        var s = new MemoryStream();
        s.Write("GIF89a"u8);
        Write16(s, w);
        Write16(s, h);
        s.WriteByte(0x80 | 0x01); // global colour table of 2^(1+1) = 4 entries
        s.WriteByte(0);
        s.WriteByte(0);
        foreach (var c in paletteRgb) s.Write(c);
        foreach (var frame in frames)
        {
            if (transparentIndex is { } t)
            {
                s.Write([0x21, 0xF9, 4, 0x01, 0, 0, (byte)t, 0]);
            }
            s.WriteByte(0x2C);
            Write16(s, 0); Write16(s, 0); Write16(s, w); Write16(s, h);
            s.WriteByte(0);
            s.WriteByte(2); // LZW minimum code size
            var lzw = Lzw(frame, minCodeSize: 2);
            for (int i = 0; i < lzw.Length; i += 255)
            {
                int n = Math.Min(255, lzw.Length - i);
                s.WriteByte((byte)n);
                s.Write(lzw, i, n);
            }
            s.WriteByte(0);
        }
        s.WriteByte(0x3B);
        return s.ToArray();
    }

    /// <summary>
    /// An LZW stream a decoder can read without any compression: a clear code before every two pixels keeps the
    /// code table (and so the code width, min + 1 bits) from growing. Codes are packed least significant bit first.
    /// </summary>
    private static byte[] Lzw(byte[] indices, int minCodeSize)
    {
        int clear = 1 << minCodeSize, end = clear + 1, width = minCodeSize + 1;
        var codes = new List<int>();
        for (int i = 0; i < indices.Length; i++)
        {
            if (i % 2 == 0) codes.Add(clear);
            codes.Add(indices[i]);
        }
        codes.Add(end);
        var bytes = new List<byte>();
        int acc = 0, bits = 0;
        foreach (int code in codes)
        {
            acc |= code << bits;
            bits += width;
            while (bits >= 8) { bytes.Add((byte)acc); acc >>= 8; bits -= 8; }
        }
        if (bits > 0) bytes.Add((byte)acc);
        return bytes.ToArray();
    }

    private static void Write16(Stream s, int v) { s.WriteByte((byte)v); s.WriteByte((byte)(v >> 8)); }

    // ---- EXIF (TIFF 6.0 header and IFD0 with the Orientation tag) ----

    /// <summary>TIFF data holding IFD0 with two entries (an unrelated tag first, then Orientation), in either byte order.</summary>
    public static byte[] ExifTiff(int orientation, bool littleEndian)
    {
        var t = new byte[8 + 2 + 2 * 12 + 4];
        void U16(int at, int v) { if (littleEndian) BinaryPrimitives.WriteUInt16LittleEndian(t.AsSpan(at), (ushort)v); else BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(at), (ushort)v); }
        void U32(int at, uint v) { if (littleEndian) BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(at), v); else BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(at), v); }
        t[0] = t[1] = (byte)(littleEndian ? 'I' : 'M');
        U16(2, 42);
        U32(4, 8);
        U16(8, 2);
        U16(10, 0x0110); U16(12, 2); U32(14, 4); t[18] = (byte)'c'; t[19] = (byte)'a'; t[20] = (byte)'m'; // Model "cam"
        U16(22, 0x0112); U16(24, 3); U32(26, 1); U16(30, orientation);
        U32(34, 0); // no next IFD
        return t;
    }

    /// <summary>A JPEG with an APP1 "Exif" segment holding <paramref name="tiff"/> right after the start-of-image marker.</summary>
    public static byte[] WithApp1(byte[] jpeg, byte[] tiff)
    {
        var body = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var s = new MemoryStream();
        s.Write(jpeg, 0, 2);
        s.Write([0xFF, 0xE1, (byte)((body.Length + 2) >> 8), (byte)(body.Length + 2)]);
        s.Write(body);
        s.Write(jpeg, 2, jpeg.Length - 2);
        return s.ToArray();
    }

    /// <summary>A PNG with an eXIf chunk holding <paramref name="tiff"/> before its image data.</summary>
    public static byte[] PngWithExif(byte[] px, int w, int h, int channels, byte[] tiff)
    {
        var png = PngWriter.Encode(px, w, h, channels);
        var s = new MemoryStream();
        s.Write(png, 0, 33); // signature + IHDR
        Fuzz.PngFiles.WriteChunk(s, "eXIf", tiff);
        s.Write(png, 33, png.Length - 33);
        return s.ToArray();
    }

    // ---- JPEG files made with libjpeg-turbo 2.1 cjpeg from patterns defined by formula ----

    /// <summary>16x16 progressive 4:4:4, quality 95, of (16x, 16y, 128).</summary>
    public static readonly byte[] Progressive444 = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wgARCAAQABADAREAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAABwj/xAAXAQADAQAAAAAAAAAAAAAAAAAEBggH/9oADAMBAAIQAxAAAAGf9IDTVSgElVhRNVKA/8QAFhAAAwAAAAAAAAAAAAAAAAAAAAUG/9oACAEBAAEFAlUqKpUVSoqlT//EABgRAAIDAAAAAAAAAAAAAAAAAAAFBiEx/9oACAEDAQE/AY2+yyNvssjb7LI2+yz/xAAXEQADAQAAAAAAAAAAAAAAAAAABAVh/9oACAECAQE/AXLGjljRyxo5Y0//xAAWEAADAAAAAAAAAAAAAAAAAAAAASP/2gAIAQEABj8CUxTFMUz/xAAVEAEBAAAAAAAAAAAAAAAAAAAA8f/aAAgBAQABPyGampqa/9oADAMBAAIAAwAAABCGH//EABYRAQEBAAAAAAAAAAAAAAAAAAEAEP/aAAgBAwEBPxB7ff8A/wD/xAAVEQEBAAAAAAAAAAAAAAAAAAAAMf/aAAgBAgEBPxCpYsVP/8QAFRABAQAAAAAAAAAAAAAAAAAAAKH/2gAIAQEAAT8QnMxnM5//2Q==");

    /// <summary>13x9 baseline 4:2:0 (optimised Huffman tables), quality 95, of (20 + 15x, 30 + 20y, 200 − 5x − 5y).</summary>
    public static readonly byte[] Baseline420 = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wAARCAAJAA0DASIAAhEBAxEB/8QAFAABAAAAAAAAAAAAAAAAAAAAB//EACQQAAADBQkAAAAAAAAAAAAAAAABEQUGBwgxAxUjNUJDUXGB/8QAFQEBAQAAAAAAAAAAAAAAAAAAAwb/xAAeEQAABgIDAAAAAAAAAAAAAAAAAQYHFFECIghBQv/aAAwDAQACEQMRAD8ADIbyZlhoykpoDi6kmh3cSsjjbCxDmtn0QcnTy0vADpO2qJJ7d2YnuP7oKSBjt5s6H//Z");

    /// <summary>The same pattern as <see cref="Baseline420"/>, progressive 4:2:0.</summary>
    public static readonly byte[] Progressive420 = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wgARCAAJAA0DASIAAhEBAxEB/8QAFAABAAAAAAAAAAAAAAAAAAAABv/EABUBAQEAAAAAAAAAAAAAAAAAAAMF/9oADAMBAAIQAxAAAAEK5WOTnf/EABkQAAIDAQAAAAAAAAAAAAAAAAAEBQYjM//aAAgBAQABBQKNpgrTc44U5//EABsRAAAHAQAAAAAAAAAAAAAAAAABBQYHEyFB/9oACAEDAQE/AY/dClQW8H//xAAYEQACAwAAAAAAAAAAAAAAAAAABgUTMf/aAAgBAgEBPwFpbZSzT//EABkQAAIDAQAAAAAAAAAAAAAAAAABECMzof/aAAgBAQAGPwJVGXBR/8QAFRABAQAAAAAAAAAAAAAAAAAAIPH/2gAIAQEAAT8hgDU//9oADAMBAAIAAwAAABCP/8QAFxEAAwEAAAAAAAAAAAAAAAAAAAFRwf/aAAgBAwEBPxDRDh//xAAYEQACAwAAAAAAAAAAAAAAAAAAARFRYf/aAAgBAgEBPxCV1bP/xAAaEAACAgMAAAAAAAAAAAAAAAAAMQERUXGB/9oACAEBAAE/EIEqjPW8Q2kCOH//2Q==");

    /// <summary>What libjpeg-turbo's djpeg decodes from <see cref="Baseline420"/> and <see cref="Progressive420"/> (the same bytes for both), 13x9 RGB.</summary>
    public static readonly byte[] LibjpegPixels420 = Convert.FromBase64String(
        "ESC5HSK6LiK2PiGxTCKsWyKlaiKieyOdhyKYlyOSpiONsyKHwSKIFzG8ITO9MzG5QjGzUTGuXzKpcDGkfjKfjTKbmzOUqzKPuTOMxjOLF0a4I0m4Mke0QkevUUeoXkeibkaefEeZi0eUmUePqkeKuEeFxEiEGFmzIlu0MlqvQFmpUVujXVqdblqZfFuUilmQmluKqFqEtlp/w1uAGWywJG+yNWysRGynU26jYG6bcG6Wfm6SjG2Nm22Hq22CuG59xW5+GH+qIoKsNYCnRICiUoGdYYGYcIGTf4GOjYCJm4GCqoF9uIF6xYF4F5SmIpimM5WgQpWbUpaXX5aRbpaNf5eJjJWCm5d8qZZ2t5ZzxJZyF6ijI6qjM6mdQ6iYUamTYKmMcKmJf6mFjap+nat6q6p0uapxx6puG7ujJryhNrueRrqXVLqSY7qNcrqIgbqDj7t+nrt5rrtzu7xwybxu");

    /// <summary>11x7 grey baseline, quality 95, of 40 + 10x + 5y.</summary>
    public static readonly byte[] Grey = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/wAALCAAHAAsBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APm79kn4Vwf6L+7Tt3Ffe3hf4Vwf8I/a/u0/1XqK/9k=");
}
