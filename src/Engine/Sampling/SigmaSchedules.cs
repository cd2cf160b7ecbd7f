namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// The step sigmas of a sampling run: n values from σ_max down, then 0 (so n + 1 entries, n model steps), computed as
/// Forge's modules/sd_schedulers.py and k-diffusion do, float32 where torch is and float64 where numpy is.
/// </summary>
public static class SigmaSchedules
{
    public const float KarrasRho = 7f;

    /// <summary>Forge's defaults for the Beta schedule (options beta_dist_alpha, beta_dist_beta).</summary>
    public const double BetaAlpha = 0.6, BetaBeta = 0.6;

    /// <param name="model">The model's sigma table (σ_min, σ_max and the timestep maps come from it).</param>
    public static float[] Build(ScheduleKind kind, int steps, ISigmaTable model)
    {
        if (steps < 1) throw new InvalidOptionException("steps", $"must be at least 1 (got {steps})");
        ArgumentNullException.ThrowIfNull(model);
        return kind switch
        {
            ScheduleKind.Normal => Normal(steps, model),
            ScheduleKind.Karras => Karras(steps, model.SigmaMin, model.SigmaMax),
            ScheduleKind.Exponential => Exponential(steps, model.SigmaMin, model.SigmaMax),
            ScheduleKind.SgmUniform => SgmUniform(steps, model),
            ScheduleKind.Simple => Simple(steps, model),
            ScheduleKind.Beta => Beta(steps, model.SigmaMin, model.SigmaMax),
            ScheduleKind.AlignYourSteps => AlignYourSteps.Sdxl(steps),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>
    /// The model's <c>get_sigmas(n)</c> (k-diffusion DiscreteSchedule, Forge's ForgeScheduleLinker and
    /// LCMCompVisDenoiser), which is also Forge's <c>normal_scheduler</c>: t = linspace(T(σ_max), T(σ_min), n).
    /// </summary>
    public static float[] Normal(int steps, ISigmaTable model) => AtTimesteps(TimestepLine(model, steps), steps, model);

    /// <summary>Forge <c>sgm_uniform</c>: t = linspace(T(σ_max), T(σ_min), n + 1) without its last entry.</summary>
    public static float[] SgmUniform(int steps, ISigmaTable model) => AtTimesteps(TimestepLine(model, steps + 1), steps, model);

    private static float[] TimestepLine(ISigmaTable model, int count) =>
        TorchLinspace.F32(model.SigmaToT(model.SigmaMax), model.SigmaToT(model.SigmaMin), count);

    private static float[] AtTimesteps(float[] t, int steps, ISigmaTable model)
    {
        var sigmas = new float[steps + 1];
        for (int i = 0; i < steps; i++) sigmas[i] = model.TToSigma(t[i]);
        return sigmas;
    }

    /// <summary>Forge <c>simple_scheduler</c>: entry −(1 + int(i·len/n)) of the ascending table, i &lt; n.</summary>
    public static float[] Simple(int steps, ISigmaTable model)
    {
        double stride = (double)model.Count / steps;
        var sigmas = new float[steps + 1];
        for (int i = 0; i < steps; i++) sigmas[i] = model.SigmaAt(model.Count - 1 - (int)(i * stride));
        return sigmas;
    }

    /// <summary>k-diffusion <c>get_sigmas_karras</c>: (σ_max^(1/ρ) + ramp·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ, ramp in float32.</summary>
    public static float[] Karras(int steps, double sigmaMin, double sigmaMax, double rho = KarrasRho)
    {
        var ramp = TorchLinspace.F32(0f, 1f, steps);
        double minInv = Math.Pow(sigmaMin, 1.0 / rho);
        double maxInv = Math.Pow(sigmaMax, 1.0 / rho);
        float span = (float)(minInv - maxInv), start = (float)maxInv, p = (float)rho;
        var sigmas = new float[steps + 1];
        for (int i = 0; i < steps; i++) sigmas[i] = MathF.Pow(start + ramp[i] * span, p);
        return sigmas;
    }

    /// <summary>k-diffusion <c>get_sigmas_exponential</c>.</summary>
    public static float[] Exponential(int steps, double sigmaMin, double sigmaMax)
    {
        var logs = TorchLinspace.F32((float)Math.Log(sigmaMax), (float)Math.Log(sigmaMin), steps);
        var sigmas = new float[steps + 1];
        for (int i = 0; i < steps; i++) sigmas[i] = (float)Math.Exp(logs[i]);
        return sigmas;
    }

    /// <summary>
    /// Forge <c>beta_scheduler</c> ("Beta Sampling is All You Need", Lee et al. 2024): σ_min + ppf(1 − linspace(0, 1, n)[i])·(σ_max − σ_min)
    /// in float64 (numpy, scipy), stored as float32.
    /// </summary>
    public static float[] Beta(int steps, double sigmaMin, double sigmaMax, double alpha = BetaAlpha, double beta = BetaBeta)
    {
        var line = NumpyLinspace(0, 1, steps);
        var sigmas = new float[steps + 1];
        for (int i = 0; i < steps; i++)
            sigmas[i] = (float)(sigmaMin + BetaDistribution.Ppf(1 - line[i], alpha, beta) * (sigmaMax - sigmaMin));
        return sigmas;
    }

    /// <summary><c>numpy.linspace</c> with endpoint: start + i·step, the last entry exactly stop.</summary>
    internal static double[] NumpyLinspace(double start, double stop, int n)
    {
        var r = new double[n];
        if (n == 0) return r;
        double step = n > 1 ? (stop - start) / (n - 1) : 0;
        for (int i = 0; i < n; i++) r[i] = i * step + start;
        if (n > 1) r[^1] = stop;
        return r;
    }
}
