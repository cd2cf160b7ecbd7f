using LayerDiffusion.Native.Imaging;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// Step previews without a VAE: each latent cell mapped to RGB by a linear fit of a family's latent space, one pixel
/// per 8×8 block, applied as ComfyUI's latent_preview.py Latent2RGBPreviewer does: to the sampler's x0 prediction in
/// sampler space (the scaled latent), then ((v + 1) / 2) clamped, × 255, truncated.
/// </summary>
/// <param name="Factors">Rows: latent channels; columns: R, G, B.</param>
public sealed record LatentPreview(float[,] Factors, float[] Bias)
{
    /// <summary>ComfyUI's SDXL fit (comfy/latent_formats.py, class SDXL, latent_rgb_factors / latent_rgb_factors_bias).</summary>
    public static LatentPreview Sdxl { get; } = new(new float[,]
    {
        { 0.3651f, 0.4232f, 0.4341f },
        { -0.2533f, -0.0042f, 0.1068f },
        { 0.1076f, 0.1111f, -0.0362f },
        { -0.3165f, -0.2492f, -0.2188f },
    }, [0.1084f, -0.0175f, -0.0011f]);

    /// <summary>ComfyUI's SD1.5 fit (comfy/latent_formats.py, class SD15; it has no bias).</summary>
    public static LatentPreview Sd15 { get; } = new(new float[,]
    {
        { 0.3512f, 0.2297f, 0.3227f },
        { 0.3250f, 0.4974f, 0.2350f },
        { -0.2829f, 0.1762f, 0.2721f },
        { -0.2120f, -0.2616f, -0.7177f },
    }, [0f, 0f, 0f]);

    public int LatentChannels => Factors.GetLength(0);

    /// <summary>One image's sampler-space latent [C, h, w] → RGB bytes [h, w, 3].</summary>
    public byte[] ToRgb(ReadOnlySpan<float> latent, int height, int width)
    {
        int plane = height * width;
        if (height <= 0 || width <= 0 || latent.Length != LatentChannels * plane)
            throw new ArgumentException($"{latent.Length} values are not a [{LatentChannels}, {height}, {width}] latent");
        var rgb = new float[3 * plane];
        for (int c = 0; c < 3; c++)
        {
            var dst = rgb.AsSpan(c * plane, plane);
            dst.Fill(Bias[c]);
            for (int k = 0; k < LatentChannels; k++)
            {
                float f = Factors[k, c];
                var src = latent.Slice(k * plane, plane);
                for (int i = 0; i < plane; i++) dst[i] += f * src[i];
            }
        }
        return ImageBytes.VaePixelsToRgb(rgb, height, width);
    }
}
