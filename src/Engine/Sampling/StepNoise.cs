namespace LayerDiffusion.Native.Sampling;

/// <summary>The step noise A1111/Forge give each stochastic sampler.</summary>
public static class StepNoise
{
    /// <summary>
    /// Euler a: the next draws of the per-image generators (after the initial noise came from the same source).
    /// DPM++ 2M SDE: a Brownian motion per image seeded with that image's seed over the run's sigma range.
    /// Deterministic samplers: null.
    /// </summary>
    public static IStepNoise? For(SamplerSettings settings, SeededNoiseSource source, float[] sigmas) => settings.Sampler switch
    {
        SamplerKind.EulerAncestral => new SequentialStepNoise(source),
        SamplerKind.DpmPp2mSde => BrownianStepNoise.ForSigmas(source.Seeds, source.ImageSize, sigmas),
        _ => null,
    };
}
