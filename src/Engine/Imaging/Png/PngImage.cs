namespace LayerDiffusion.Native.Imaging.Png;

/// <summary>
/// A decoded PNG as 8-bit interleaved pixels: 1 channel (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA). Palette
/// images come out as RGB, or RGBA when they carry transparency; a tRNS colour key becomes an alpha channel.
/// The other input formats (<see cref="Formats.ImageFormats"/>) decode into the same form, without text.
/// </summary>
public sealed class PngImage
{
    public PngImage(int width, int height, int channels, byte[] pixels, IReadOnlyList<KeyValuePair<string, string>> text)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"bad image size {width}x{height}");
        if (channels is < 1 or > 4) throw new ArgumentException($"{channels} channels");
        if (pixels.Length != (long)width * height * channels) throw new ArgumentException($"{pixels.Length} bytes for {width}x{height}x{channels}");
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
        Text = text;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public bool HasAlpha => Channels is 2 or 4;
    /// <summary>Interleaved HWC bytes.</summary>
    public byte[] Pixels { get; }
    /// <summary>tEXt / zTXt / iTXt entries in file order (A1111 stores its infotext under "parameters").</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Text { get; }

    /// <summary>The first text entry with this keyword, or null.</summary>
    public string? GetText(string keyword)
    {
        foreach (var (k, v) in Text) if (k == keyword) return v;
        return null;
    }

    /// <summary>RGBA bytes (grey is replicated, a missing alpha is 255).</summary>
    public byte[] ToRgba()
    {
        int n = Width * Height;
        if (Channels == 4) return (byte[])Pixels.Clone();
        var rgba = new byte[n * 4];
        for (int i = 0; i < n; i++)
        {
            byte r, g, b, a = 255;
            switch (Channels)
            {
                case 1: r = g = b = Pixels[i]; break;
                case 2: r = g = b = Pixels[i * 2]; a = Pixels[i * 2 + 1]; break;
                default: r = Pixels[i * 3]; g = Pixels[i * 3 + 1]; b = Pixels[i * 3 + 2]; break;
            }
            rgba[i * 4] = r; rgba[i * 4 + 1] = g; rgba[i * 4 + 2] = b; rgba[i * 4 + 3] = a;
        }
        return rgba;
    }
}
