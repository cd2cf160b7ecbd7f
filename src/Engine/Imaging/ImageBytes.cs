namespace LayerDiffusion.Native.Imaging;

/// <summary>
/// Float images to 8-bit bytes, as the references do it: scale by 255 in fp32 and truncate (numpy's astype(uint8)
/// after clip), not round. Inputs are one image in planar CHW order; outputs are interleaved HWC bytes.
/// </summary>
public static class ImageBytes
{
    /// <summary>Side of one checkerboard cell in the transparent preview.</summary>
    public const int CheckerCell = 64;
    public const float CheckerDark = 0.45f, CheckerLight = 0.55f;

    /// <summary>
    /// The transparent PNG's pixels from a decoder output [4, H, W] (alpha, R, G, B): straight (not premultiplied)
    /// RGBA bytes, each truncate(clip(v · 255, 0, 255)).
    /// </summary>
    public static byte[] StraightRgba(ReadOnlySpan<float> alphaRgb, int height, int width)
    {
        int plane = CheckPlanes(alphaRgb, 4, height, width);
        var rgba = new byte[plane * 4];
        for (int i = 0; i < plane; i++)
        {
            rgba[i * 4 + 0] = Truncate(alphaRgb[plane + i]);
            rgba[i * 4 + 1] = Truncate(alphaRgb[2 * plane + i]);
            rgba[i * 4 + 2] = Truncate(alphaRgb[3 * plane + i]);
            rgba[i * 4 + 3] = Truncate(alphaRgb[i]);
        }
        return rgba;
    }

    /// <summary>
    /// The preview Forge shows beside the PNG: fg · α + checker · (1 − α) over a checkerboard of
    /// <see cref="CheckerCell"/>-pixel cells, 0.45 grey in the top-left cell and 0.55 in the others, as RGB bytes.
    /// </summary>
    public static byte[] CheckerboardPreview(ReadOnlySpan<float> alphaRgb, int height, int width)
    {
        int plane = CheckPlanes(alphaRgb, 4, height, width);
        var rgb = new byte[plane * 3];
        for (int y = 0; y < height; y++)
        {
            int cy = CheckerIndex(y, height);
            for (int x = 0; x < width; x++)
            {
                int i = y * width + x;
                float cb = ((cy + CheckerIndex(x, width)) & 1) == 0 ? CheckerDark : CheckerLight;
                float a = alphaRgb[i];
                for (int c = 0; c < 3; c++)
                    rgb[i * 3 + c] = Truncate(alphaRgb[(c + 1) * plane + i] * a + cb * (1f - a));
            }
        }
        return rgb;
    }

    /// <summary>
    /// The cell a pixel falls in. Forge builds a (H/64)×(W/64) board and stretches it to H×W with OpenCV's nearest
    /// neighbour (source index = floor(x · cells / size) in double), so sides that are not multiples of 64 get
    /// slightly wider cells; a side under 64 px is one cell.
    /// </summary>
    internal static int CheckerIndex(int x, int size)
    {
        int cells = size / CheckerCell;
        if (cells <= 1) return 0;
        double scale = 1.0 / ((double)size / cells);
        return Math.Min((int)Math.Floor(x * scale), cells - 1);
    }

    /// <summary>VAE decoder output [3, H, W] in about [-1, 1] → RGB bytes: truncate(clamp((x + 1) / 2, 0, 1) · 255).</summary>
    public static byte[] VaePixelsToRgb(ReadOnlySpan<float> chw, int height, int width)
    {
        int plane = CheckPlanes(chw, 3, height, width);
        var rgb = new byte[plane * 3];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
                rgb[i * 3 + c] = Truncate(Math.Clamp((chw[c * plane + i] + 1f) / 2f, 0f, 1f));
        return rgb;
    }

    /// <summary>Interleaved bytes (HWC) → planar floats [C, H, W] in [0, 1] (v / 255), e.g. the decoder's pixel input.</summary>
    public static float[] ToPlanarUnit(ReadOnlySpan<byte> hwc, int height, int width, int channels)
    {
        int plane = height * width;
        if (hwc.Length != plane * channels) throw new ArgumentException($"{hwc.Length} bytes for a {width}x{height} image of {channels} channels");
        var chw = new float[plane * channels];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < channels; c++)
                chw[c * plane + i] = hwc[i * channels + c] / 255f;
        return chw;
    }

    /// <summary>truncate(clip(v · 255, 0, 255)) in fp32, as (x * 255.0).clip(0, 255).astype(np.uint8) on fp32 data.</summary>
    public static byte Truncate(float v)
    {
        float s = v * 255f;
        if (!(s > 0f)) return 0;   // also NaN → 0
        return s >= 255f ? (byte)255 : (byte)s;
    }

    private static int CheckPlanes(ReadOnlySpan<float> data, int channels, int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"bad image size {width}x{height}");
        int plane = height * width;
        if (data.Length != plane * channels) throw new ArgumentException($"{data.Length} values for a {width}x{height} image of {channels} channels");
        return plane;
    }
}
