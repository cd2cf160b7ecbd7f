namespace LayerDiffusion.Native.LayerDiffusion;

/// <summary>
/// Transparent img2img's "regulated" VAE sample: instead of mean + std · noise, Forge takes
/// z = mean + std · offset with the transparent encoder's offset (before the 0.13025 latent scaling), where
/// std = exp(0.5 · clamp(logvar, −30, 20)) as diffusers' DiagonalGaussianDistribution computes it.
/// </summary>
public static class TransparentLatentOffset
{
    public static float[] Std(ReadOnlySpan<float> logVar)
    {
        var std = new float[logVar.Length];
        for (int i = 0; i < std.Length; i++) std[i] = MathF.Exp(0.5f * Math.Clamp(logVar[i], -30f, 20f));
        return std;
    }

    public static float[] Regulate(ReadOnlySpan<float> mean, ReadOnlySpan<float> std, ReadOnlySpan<float> offset)
    {
        if (mean.Length != std.Length || mean.Length != offset.Length)
            throw new ArgumentException($"mean ({mean.Length}), std ({std.Length}) and offset ({offset.Length}) differ in size");
        var z = new float[mean.Length];
        for (int i = 0; i < z.Length; i++) z[i] = mean[i] + std[i] * offset[i];
        return z;
    }
}
