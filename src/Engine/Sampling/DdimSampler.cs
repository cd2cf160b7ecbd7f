namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// DDIM as Forge/A1111 run it (modules/sd_samplers_timesteps_impl.py <c>ddim</c>, eta 0 — Forge's default
/// <c>eta_ddim</c>): a timesteps sampler over ᾱ_t = 1/(σ_t² + 1) of the predictor's table and the integer timesteps
/// ts = clip(range(0, 1000, 1000 // steps) + 1, 0, 999).
/// </summary>
/// <remarks>
/// x_T = the unit noise, unscaled. Step k (k = len(ts) − 1 … 1) evaluates ε at ts[k] and moves to ts[k − 1]:
/// x0 = (x − √(1 − ᾱ_t)·ε)/√ᾱ_t, x ← √ᾱ_prev·x0 + √(1 − ᾱ_prev)·ε. So the run makes len(ts) − 1 model calls and
/// ends at timestep ts[0] = 1, not 0, exactly as the reference does. The model sees x unscaled at the timestep
/// nearest σ_t (Forge's classic_ddim_eps_estimation round trip through the k-diffusion denoiser).
/// </remarks>
internal sealed class DdimSampler
{
    private readonly EpsModel _model;
    private readonly DiscreteSchedule _schedule;
    private readonly float[] _alphasCumprod;

    public DdimSampler(EpsModel model, DiscreteSchedule schedule)
    {
        _model = model;
        _schedule = schedule;
        _alphasCumprod = new NoiseScheduleVp(schedule).AlphasCumprod;
    }

    /// <summary>A1111's timesteps for a timesteps sampler: clip(range(0, 1000, 1000 // steps) + 1, 0, 999).</summary>
    internal static int[] Timesteps(int steps) => UniPcSampler.Img2ImgTimesteps(steps);

    /// <summary>Model calls of a txt2img run: len(ts) − 1.</summary>
    public static int ModelCalls(int steps) => Timesteps(steps).Length - 1;

    /// <summary>The sigma of every timestep the run visits, from ts[^1] down to ts[0] (for noise ranges and previews).</summary>
    public static float[] Sigmas(DiscreteSchedule schedule, int steps) => Timesteps(steps).Reverse().Select(t => schedule.Sigmas[t]).ToArray();

    public float[] Sample(float[] noise, int steps, StepReporter report) => Run((float[])noise.Clone(), Timesteps(steps), report);

    /// <summary>
    /// img2img (CompVisSampler.sample_img2img): x = init·√ᾱ[ts[t_enc]] + noise·√(1 − ᾱ[ts[t_enc]]), then DDIM over
    /// ts[..t_enc], i.e. t_enc − 1 model calls starting at ts[t_enc − 1].
    /// </summary>
    public float[] SampleImg2Img(float[] init, float[] noise, int steps, int tEnc, StepReporter report)
    {
        var ts = Timesteps(steps);
        if (tEnc < 2 || tEnc >= ts.Length)
            throw new InvalidSettingException("Denoise", $"DDIM img2img runs t_enc − 1 steps and needs 2 ≤ t_enc < {ts.Length} (got t_enc = {tEnc}); raise {InvalidSettingException.Ref("Denoise")} or {InvalidSettingException.Ref("Steps")}");
        float alphaBar = _alphasCumprod[ts[tEnc]];
        float a = MathF.Sqrt(alphaBar), b = MathF.Sqrt(1f - alphaBar);
        var x = new float[init.Length];
        for (int i = 0; i < x.Length; i++) x[i] = init[i] * a + noise[i] * b;
        return Run(x, ts[..tEnc], report);
    }

    private float[] Run(float[] x, int[] ts, StepReporter report)
    {
        for (int i = 0; i < ts.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            int index = ts.Length - 1 - i;
            float sigma = _schedule.Sigmas[ts[index]];
            var eps = _model(x, _schedule.SigmaToTimestep(sigma), sigma);
            if (eps.Length != x.Length) throw new InvalidOperationException($"model returned {eps.Length} values for {x.Length}");
            float alphaT = _alphasCumprod[ts[index]];
            float alphaPrev = _alphasCumprod[ts[index - 1]];
            float sqrtOneMinusAlpha = MathF.Sqrt(1f - alphaT), sqrtAlpha = MathF.Sqrt(alphaT);
            float sqrtPrev = MathF.Sqrt(alphaPrev), dir = MathF.Sqrt(1f - alphaPrev);
            var x0 = new float[x.Length];
            for (int j = 0; j < x.Length; j++)
            {
                x0[j] = (x[j] - sqrtOneMinusAlpha * eps[j]) / sqrtAlpha;
                x[j] = sqrtPrev * x0[j] + dir * eps[j];
            }
            report.Report(i, sigma, x0);
        }
        return x;
    }
}
