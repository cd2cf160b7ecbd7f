using LayerDiffusion.Native.Imaging;

namespace LayerDiffusion.Native.LayerDiffusion;

/// <summary>
/// LayerDiffusion's pad_rgb: gives every pixel a colour, keeping visible pixels and filling transparent ones with a
/// smooth continuation of their surroundings, so the transparent encoder sees no arbitrary colours under α = 0.
/// 1. Level 0 is (colour · α, α) in fp32 (bytes / 255).
/// 2. Shrink both by 1.2 (to int(w/1.2) × int(h/1.2)) with OpenCV INTER_AREA until a level has a side of 1.
/// 3. Start from the alpha-weighted mean colour of the coarsest level (Σ premultiplied / max(Σ α, 1e-8)).
/// 4. Coarse to fine: resize the fill to the level with INTER_LINEAR, then fill = premultiplied + fill · (1 − α).
/// Iterated this way it acts like many Gaussian blurs of the premultiplied image, normalised by alpha.
/// </summary>
public static class PadRgb
{
    public const double ShrinkFactor = 1.2;

    /// <summary>RGBA bytes [H, W, 4] → padded RGB [H, W, 3] (fp32, about [0, 1]).</summary>
    public static FloatImage Compute(ReadOnlySpan<byte> rgba, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"bad image size {width}x{height}");
        if (rgba.Length != (long)width * height * 4) throw new ArgumentException($"{rgba.Length} bytes for a {width}x{height} RGBA image");
        var color = new FloatImage(width, height, 3);
        var alpha = new FloatImage(width, height, 1);
        for (int i = 0; i < width * height; i++)
        {
            float a = rgba[i * 4 + 3] / 255f;
            alpha.Data[i] = a;
            for (int c = 0; c < 3; c++) color.Data[i * 3 + c] = rgba[i * 4 + c] / 255f * a;
        }

        var pyramid = new Stack<(FloatImage Premultiplied, FloatImage Alpha)>(); // enumerates coarsest first
        while (true)
        {
            pyramid.Push((color, alpha));
            if (Math.Min(color.Width, color.Height) == 1) break;
            int w = (int)(color.Width / ShrinkFactor), h = (int)(color.Height / ShrinkFactor);
            color = CvResize.Resize(color, w, h, CvInterpolation.Area);
            alpha = CvResize.Resize(alpha, w, h, CvInterpolation.Area);
        }

        var (topC, topA) = pyramid.Peek();
        float denom = Math.Clamp((float)topA.Data.Sum(v => (double)v), 1e-8f, 1e32f);
        var mean = Enumerable.Range(0, 3).Select(c => (float)topC.Data.Where((_, i) => i % 3 == c).Sum(v => (double)v) / denom);
        var fill = new FloatImage(1, 1, 3, [.. mean]);

        foreach (var (layerC, layerA) in pyramid)
        {
            fill = CvResize.Resize(fill, layerC.Width, layerC.Height, CvInterpolation.Linear);
            var f = fill.Data;
            for (int i = 0; i < layerA.Data.Length; i++)
            {
                float keep = 1f - layerA.Data[i];
                for (int c = 0; c < 3; c++) f[i * 3 + c] = layerC.Data[i * 3 + c] + f[i * 3 + c] * keep;
            }
        }
        return fill;
    }
}
