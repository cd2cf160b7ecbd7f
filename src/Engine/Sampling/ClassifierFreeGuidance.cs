namespace LayerDiffusion.Native.Sampling;

/// <summary>Classifier-free guidance: ε = ε_u + (ε_c − ε_u)·cfg (equivalent to Forge's CFG on denoised outputs).</summary>
public static class ClassifierFreeGuidance
{
    public static void Validate(float cfg)
    {
        if (!float.IsFinite(cfg)) throw new InvalidOptionException("cfg", $"must be a finite number (got {cfg})");
    }

    /// <summary>
    /// Wraps a model that runs the doubled [negative, positive] batch into an <see cref="EpsModel"/>. With
    /// cfg = 1 and a <paramref name="positiveOnly"/> model, the negative half is skipped, as Forge does.
    /// </summary>
    public static EpsModel Wrap(CfgBatchEpsModel batch, float cfg, EpsModel? positiveOnly = null)
    {
        Validate(cfg);
        if (cfg == 1f && positiveOnly is not null) return positiveOnly;
        return (x, t, sigma) =>
        {
            var doubled = new float[2 * x.Length];
            x.CopyTo(doubled, 0);
            x.CopyTo(doubled, x.Length);
            var eps = batch(doubled, t, sigma);
            if (eps.Length != doubled.Length)
                throw new InvalidOperationException($"CFG model returned {eps.Length} values for a batch of {doubled.Length}");
            var result = new float[x.Length];
            Combine(eps.AsSpan(0, x.Length), eps.AsSpan(x.Length), cfg, result);
            return result;
        };
    }

    public static void Combine(ReadOnlySpan<float> uncond, ReadOnlySpan<float> cond, float cfg, Span<float> result)
    {
        for (int i = 0; i < result.Length; i++) result[i] = uncond[i] + (cond[i] - uncond[i]) * cfg;
    }
}
