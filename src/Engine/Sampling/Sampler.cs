namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// Runs a sampling loop on host latents: txt2img from unit noise, or img2img from a given latent and a start index
/// into the step sigmas; both return the final latent (before the VAE's scaling).
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
        CheckArguments(settings, model, noise, stepNoise);
        var report = new StepReporter(settings.Steps, callback, cancel);

        if (settings.Sampler == SamplerKind.UniPc)
            return new UniPcSampler(model, new NoiseScheduleVp(schedule)).Sample(noise, settings.Steps, report);

        var sigmas = SigmaSchedules.Build(settings.Schedule, settings.Steps, schedule);
        // A1111/Forge txt2img: x_T = noise·σ_0 (not √(1 + σ_0²) as in SGM/ComfyUI).
        var x = new float[noise.Length];
        for (int i = 0; i < x.Length; i++) x[i] = noise[i] * sigmas[0];
        return RunKDiffusion(settings, schedule, model, x, sigmas, stepNoise, report);
    }

    /// <summary>
    /// img2img as A1111/Forge's KDiffusionSampler.sample_img2img: the full <c>settings.Steps</c>-step schedule is
    /// built, the run starts at <paramref name="startIndex"/> with x = init + noise·σ_start and takes the remaining
    /// steps (sigmas[startIndex..], so Steps − startIndex model steps). Step noise keeps covering the full schedule
    /// (A1111 seeds the Brownian tree from all sigmas, not the tail). UniPC, a timesteps sampler in A1111, has its own
    /// img2img rule (<see cref="UniPcSampler.SampleImg2Img"/>) for the same t_enc.
    /// </summary>
    /// <param name="initLatent">The start latent for the batch (VAE scale, i.e. already × 0.13025), noise's size.</param>
    /// <param name="startIndex">Index into the step sigmas, 0 ≤ startIndex &lt; Steps.</param>
    public static float[] Run(SamplerSettings settings, DiscreteSchedule schedule, EpsModel model, float[] noise,
        float[] initLatent, int startIndex, IStepNoise? stepNoise = null, SamplerCallback? callback = null, CancellationToken cancel = default)
    {
        CheckArguments(settings, model, noise, stepNoise);
        ArgumentNullException.ThrowIfNull(initLatent);
        if (initLatent.Length != noise.Length)
            throw new ArgumentException($"init latent has {initLatent.Length} values, the noise {noise.Length}", nameof(initLatent));
        if (startIndex < 0 || startIndex >= settings.Steps)
            throw new ArgumentOutOfRangeException(nameof(startIndex), $"{startIndex} is outside [0, {settings.Steps})");
        if (settings.Sampler == SamplerKind.UniPc)
        {
            // The same t_enc as the k-diffusion path (startIndex = steps − t_enc − 1), UniPC's own start rule.
            int tEnc = settings.Steps - 1 - startIndex;
            return new UniPcSampler(model, new NoiseScheduleVp(schedule))
                .SampleImg2Img(initLatent, noise, settings.Steps, tEnc, new StepReporter(tEnc, callback, cancel));
        }

        var sigmas = SigmaSchedules.Build(settings.Schedule, settings.Steps, schedule)[startIndex..];
        var report = new StepReporter(sigmas.Length - 1, callback, cancel);
        var x = new float[noise.Length];
        for (int i = 0; i < x.Length; i++) x[i] = initLatent[i] + noise[i] * sigmas[0];
        return RunKDiffusion(settings, schedule, model, x, sigmas, stepNoise, report);
    }

    private static void CheckArguments(SamplerSettings settings, EpsModel model, float[] noise, IStepNoise? stepNoise)
    {
        settings.Validate();
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(noise);
        if (settings.Sampler.IsStochastic() && stepNoise is null)
            throw new ArgumentException($"sampler {settings.Sampler.Name()} needs a step-noise source", nameof(stepNoise));
    }

    private static float[] RunKDiffusion(SamplerSettings settings, DiscreteSchedule schedule, EpsModel model, float[] x,
        float[] sigmas, IStepNoise? stepNoise, StepReporter report)
    {
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
