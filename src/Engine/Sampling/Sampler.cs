namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// Runs a txt2img sampling loop on host latents: from unit noise to the final latent (before the VAE's scaling).
/// </summary>
public static class Sampler
{
    /// <summary>The step sigmas of a k-diffusion run (n + 1 values ending in 0); UniPC's are its VP equivalents.</summary>
    public static float[] Sigmas(SamplerSettings settings, DiscreteSchedule schedule)
    {
        settings.Validate();
        if (settings.Sampler != SamplerKind.UniPc) return SigmaSchedules.Build(settings.Schedule, settings.Steps, schedule);
        var vp = new NoiseScheduleVp(schedule);
        var times = TorchLinspace.F32(1f, 1f / vp.TotalN, settings.Steps + 1);
        var sigmas = new float[times.Length + 1];
        for (int i = 0; i < times.Length; i++) sigmas[i] = (float)vp.KSigma(times[i]);
        return sigmas;
    }

    /// <param name="noise">Unit-normal initial noise for the batch (the first draw of the noise source).</param>
    /// <param name="stepNoise">Per-step noise; required by stochastic samplers (see <see cref="StepNoise.For"/>).</param>
    /// <param name="callback">Called after every step (progress, previews).</param>
    public static float[] Run(SamplerSettings settings, DiscreteSchedule schedule, EpsModel model, float[] noise,
        IStepNoise? stepNoise = null, SamplerCallback? callback = null, CancellationToken cancel = default)
    {
        settings.Validate();
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(noise);
        if (settings.Sampler.IsStochastic() && stepNoise is null)
            throw new ArgumentException($"sampler {settings.Sampler.Name()} needs a step-noise source", nameof(stepNoise));
        var report = new StepReporter(settings.Steps, callback, cancel);

        if (settings.Sampler == SamplerKind.UniPc)
            return new UniPcSampler(model, new NoiseScheduleVp(schedule)).Sample(noise, settings.Steps, report);

        var sigmas = SigmaSchedules.Build(settings.Schedule, settings.Steps, schedule);
        // A1111/Forge txt2img: x_T = noise·σ_0 (not √(1 + σ_0²) as in SGM/ComfyUI).
        var x = new float[noise.Length];
        for (int i = 0; i < x.Length; i++) x[i] = noise[i] * sigmas[0];
        var denoiser = new Denoiser(model, schedule, settings.Timesteps);
        return settings.Sampler switch
        {
            SamplerKind.Euler => KDiffusionSamplers.Euler(denoiser, x, sigmas, report),
            SamplerKind.EulerAncestral => KDiffusionSamplers.EulerAncestral(denoiser, x, sigmas, stepNoise!, report),
            SamplerKind.DpmPp2m => KDiffusionSamplers.DpmPp2m(denoiser, x, sigmas, report),
            SamplerKind.DpmPp2mSde => KDiffusionSamplers.DpmPp2mSde(denoiser, x, sigmas, stepNoise!, report),
            _ => throw new ArgumentOutOfRangeException(nameof(settings)),
        };
    }
}
