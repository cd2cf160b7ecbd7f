namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// Runs a sampling loop on host latents: txt2img from unit noise, or img2img from a given latent and a start index
/// into the step sigmas; both return the final latent (before the VAE's scaling).
/// </summary>
public static class Sampler
{
    /// <summary>
    /// The step sigmas of a run (n + 1 values ending in 0), as Forge's KDiffusionSampler.get_sigmas builds them: the
    /// schedule over the model's table (LCM's own table for LCM), for steps + 1 with the next-to-last sigma dropped
    /// for DPM2, DPM2 a and DPM++ 3M SDE. UniPC's are its VP equivalents, DDIM's the sigmas of its timesteps.
    /// </summary>
    public static float[] Sigmas(SamplerSettings settings, DiscreteSchedule schedule)
    {
        settings.Validate();
        switch (settings.Sampler)
        {
            case SamplerKind.UniPc:
                var vp = new NoiseScheduleVp(schedule);
                var times = TorchLinspace.F32(1f, 1f / vp.TotalN, settings.Steps + 1);
                var sigmas = new float[times.Length + 1];
                for (int i = 0; i < times.Length; i++) sigmas[i] = (float)vp.KSigma(times[i]);
                return sigmas;
            case SamplerKind.Ddim:
                return [.. DdimSampler.Sigmas(schedule, settings.Steps), 0f];
        }
        bool discard = settings.Sampler.DiscardsPenultimateSigma();
        ISigmaTable table = settings.Sampler == SamplerKind.Lcm ? new LcmSchedule(schedule) : schedule;
        var s = SigmaSchedules.Build(settings.Schedule, settings.Steps + (discard ? 1 : 0), table);
        return discard ? [.. s[..^2], s[^1]] : s;
    }

    /// <param name="noise">Unit-normal initial noise for the batch (the first draw of the noise source).</param>
    /// <param name="stepNoise">Per-step noise; required by stochastic samplers (see <see cref="StepNoise.For"/>).</param>
    /// <param name="callback">Called after every step (progress, previews).</param>
    public static float[] Run(SamplerSettings settings, DiscreteSchedule schedule, EpsModel model, float[] noise,
        IStepNoise? stepNoise = null, SamplerCallback? callback = null, CancellationToken cancel = default)
    {
        CheckArguments(settings, model, noise, stepNoise);
        switch (settings.Sampler)
        {
            case SamplerKind.UniPc:
                return new UniPcSampler(model, new NoiseScheduleVp(schedule)).Sample(noise, settings.Steps, new StepReporter(settings.Steps, callback, cancel));
            case SamplerKind.Ddim:
                return new DdimSampler(model, schedule).Sample(noise, settings.Steps, new StepReporter(DdimSampler.ModelCalls(settings.Steps), callback, cancel));
        }

        var sigmas = Sigmas(settings, schedule);
        // A1111/Forge txt2img: x_T = noise·σ_0 (not √(1 + σ_0²) as in SGM/ComfyUI).
        var x = new float[noise.Length];
        for (int i = 0; i < x.Length; i++) x[i] = noise[i] * sigmas[0];
        return RunKDiffusion(settings, schedule, model, x, sigmas, stepNoise, new StepReporter(settings.Steps, callback, cancel));
    }

    /// <summary>
    /// img2img as A1111/Forge's KDiffusionSampler.sample_img2img: the full <c>settings.Steps</c>-step schedule is
    /// built, the run starts at <paramref name="startIndex"/> with x = init + noise·σ_start and takes the remaining
    /// steps (sigmas[startIndex..], so Steps − startIndex model steps). Step noise keeps covering the full schedule
    /// (A1111 seeds the Brownian tree from all sigmas, not the tail). The timesteps samplers UniPC and DDIM have their
    /// own img2img rule (<see cref="UniPcSampler.SampleImg2Img"/>, <see cref="DdimSampler.SampleImg2Img"/>) for the same t_enc.
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
        ValidateImg2Img(settings, startIndex);
        // The timesteps samplers take the same t_enc as the k-diffusion path (startIndex = steps − t_enc − 1).
        int tEnc = settings.Steps - 1 - startIndex;
        switch (settings.Sampler)
        {
            case SamplerKind.UniPc:
                return new UniPcSampler(model, new NoiseScheduleVp(schedule))
                    .SampleImg2Img(initLatent, noise, settings.Steps, tEnc, new StepReporter(tEnc, callback, cancel));
            case SamplerKind.Ddim:
                return new DdimSampler(model, schedule).SampleImg2Img(initLatent, noise, settings.Steps, tEnc, new StepReporter(tEnc - 1, callback, cancel));
        }

        var sigmas = Sigmas(settings, schedule)[startIndex..];
        var report = new StepReporter(sigmas.Length - 1, callback, cancel);
        var x = new float[noise.Length];
        for (int i = 0; i < x.Length; i++) x[i] = initLatent[i] + noise[i] * sigmas[0];
        return RunKDiffusion(settings, schedule, model, x, sigmas, stepNoise, report);
    }

    /// <summary>
    /// Whether an img2img start leaves the sampler a step: 0 ≤ startIndex &lt; Steps, and for the timesteps samplers
    /// t_enc = Steps − 1 − startIndex of at least 1 (UniPC runs t_enc steps) or 2 (DDIM runs t_enc − 1).
    /// </summary>
    public static void ValidateImg2Img(SamplerSettings settings, int startIndex)
    {
        if (startIndex < 0 || startIndex >= settings.Steps)
            throw new ArgumentOutOfRangeException(nameof(startIndex), $"{startIndex} is outside [0, {settings.Steps})");
        int tEnc = settings.Steps - 1 - startIndex;
        int needed = settings.Sampler switch { SamplerKind.UniPc => 1, SamplerKind.Ddim => 2, _ => 0 };
        if (tEnc < needed)
            throw new InvalidSettingException("Denoise", $"leaves {settings.Sampler.ForgeLabel()} no step at {settings.Steps} steps " +
                $"(it runs {(needed == 1 ? "int(denoise · steps)" : "int(denoise · steps) − 1")} of them); raise {InvalidSettingException.Ref("Denoise")} or {InvalidSettingException.Ref("Steps")}");
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
            SamplerKind.Lms => LinearMultistep.Sample(denoiser, x, sigmas, report),
            SamplerKind.Heun => KDiffusionSecondOrderSamplers.Heun(denoiser, x, sigmas, report),
            SamplerKind.Dpm2 => KDiffusionSecondOrderSamplers.Dpm2(denoiser, x, sigmas, report),
            SamplerKind.Dpm2Ancestral => KDiffusionSecondOrderSamplers.Dpm2Ancestral(denoiser, x, sigmas, stepNoise!, report),
            SamplerKind.DpmPp2sAncestral => KDiffusionSecondOrderSamplers.DpmPp2sAncestral(denoiser, x, sigmas, stepNoise!, report),
            SamplerKind.DpmPpSde => KDiffusionSdeSamplers.DpmPpSde(denoiser, x, sigmas, stepNoise!, report),
            SamplerKind.DpmPp2m => KDiffusionSamplers.DpmPp2m(denoiser, x, sigmas, report),
            SamplerKind.DpmPp2mSde => KDiffusionSdeSamplers.DpmPp2mSde(denoiser, x, sigmas, stepNoise!, report),
            SamplerKind.DpmPp2mSdeHeun => KDiffusionSdeSamplers.DpmPp2mSde(denoiser, x, sigmas, stepNoise!, report, heun: true),
            SamplerKind.DpmPp3mSde => KDiffusionSdeSamplers.DpmPp3mSde(denoiser, x, sigmas, stepNoise!, report),
            SamplerKind.Lcm => KDiffusionSamplers.Lcm(denoiser, x, sigmas, stepNoise!, report),
            _ => throw new ArgumentOutOfRangeException(nameof(settings)),
        };
    }
}
