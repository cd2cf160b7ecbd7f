namespace LayerDiffusion.Native.Sampling;

/// <summary>The step noise Forge gives each stochastic sampler.</summary>
public static class StepNoise
{
    /// <summary>
    /// Euler a, DPM2 a, DPM++ 2S a and LCM: the next draws of the per-image generators (after the initial noise came
    /// from the same source; Forge's torch.randn_like hijack). The DPM++ SDE family: a torchsde Brownian tree per
    /// image seed over the run's sigma range, drawing on the same RNG source. Deterministic samplers: null.
    /// </summary>
    public static IStepNoise? For(SamplerSettings settings, SeededNoiseSource source, float[] sigmas) => settings.Sampler.StepNoise() switch
    {
        StepNoiseKind.Sequential => new SequentialStepNoise(source),
        StepNoiseKind.Brownian => BrownianStepNoise.ForSigmas(source.Seeds, source.ImageSize, sigmas, source.RandnLocal, source.RandnLocalIsThreadSafe),
        _ => null,
    };
}
