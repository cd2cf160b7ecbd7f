namespace LayerDiffusion.Native.Imaging;

/// <summary>
/// A1111's images.flatten: an RGBA image pasted over a solid colour with its alpha as the mask, then RGB. This is
/// how transparent img2img turns its RGBA input into the VAE's RGB input (over grey 127).
/// </summary>
public static class AlphaFlatten
{
    public const byte ImgToImgGrey = 127;

    /// <summary>
    /// RGBA bytes → RGB bytes: round((rgb · α + bg · (255 − α)) / 255), computed with PIL's exact integer DIV255
    /// so every byte matches Image.paste.
    /// </summary>
    public static byte[] OverColor(ReadOnlySpan<byte> rgba, int width, int height, byte background = ImgToImgGrey)
    {
        int n = width * height;
        if (width <= 0 || height <= 0 || rgba.Length != (long)n * 4) throw new ArgumentException($"{rgba.Length} bytes for a {width}x{height} RGBA image");
        var rgb = new byte[n * 3];
        for (int i = 0; i < n; i++)
        {
            int a = rgba[i * 4 + 3];
            for (int c = 0; c < 3; c++) rgb[i * 3 + c] = Div255(rgba[i * 4 + c] * a + background * (255 - a));
        }
        return rgb;
    }

    /// <summary>PIL's DIV255: v / 255 rounded to nearest for 0 ≤ v ≤ 255².</summary>
    internal static byte Div255(int v)
    {
        int t = v + 128;
        return (byte)(((t >> 8) + t) >> 8);
    }

    /// <summary>RGB bytes → planar [3, H, W] in [−1, 1]: 2 · (v / 255) − 1 in fp32, as A1111 feeds the VAE encoder.</summary>
    public static float[] ToSignedPlanar(ReadOnlySpan<byte> rgb, int width, int height)
    {
        var unit = ImageBytes.ToPlanarUnit(rgb, height, width, 3);
        for (int i = 0; i < unit.Length; i++) unit[i] = 2f * unit[i] - 1f;
        return unit;
    }
}
