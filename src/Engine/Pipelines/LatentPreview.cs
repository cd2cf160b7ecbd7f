using LayerDiffusion.Native.Imaging;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// Step previews without a VAE: each latent cell mapped to RGB by a linear fit of the SDXL latent space, one pixel per
/// 8×8 block. The factors and bias are ComfyUI's for SDXL (comfy/latent_formats.py, class SDXL,
/// latent_rgb_factors / latent_rgb_factors_bias), applied as its latent_preview.py Latent2RGBPreviewer does: to the
/// sampler's x0 prediction in sampler space (the 0.13025-scaled latent), then ((v + 1) / 2) clamped, × 255, truncated.
/// </summary>
public static class LatentPreview
{
    /// <summary>Rows: latent channels 0..3; columns: R, G, B.</summary>
    private static readonly float[,] Factors =
    {
        { 0.3651f, 0.4232f, 0.4341f },
        { -0.2533f, -0.0042f, 0.1068f },
        { 0.1076f, 0.1111f, -0.0362f },
        { -0.3165f, -0.2492f, -0.2188f },
    };
    private static readonly float[] Bias = [0.1084f, -0.0175f, -0.0011f];

    public const int LatentChannels = 4;

    /// <summary>One image's sampler-space latent [4, h, w] → RGB bytes [h, w, 3].</summary>
    public static byte[] ToRgb(ReadOnlySpan<float> latent, int height, int width)
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
