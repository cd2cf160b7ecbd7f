namespace LayerDiffusion.Native.Sampling;

/// <summary>The step sigmas of a sampling run: n values from σ_max down, then 0 (so n + 1 entries, n model steps).</summary>
public static class SigmaSchedules
{
    public const float KarrasRho = 7f;

    public static float[] Build(ScheduleKind kind, int steps, DiscreteSchedule schedule)
    {
        if (steps < 1) throw new InvalidOptionException("steps", $"must be at least 1 (got {steps})");
        return kind switch
        {
            ScheduleKind.Normal => Normal(steps, schedule),
            ScheduleKind.Karras => Karras(steps, schedule.SigmaMin, schedule.SigmaMax),
            ScheduleKind.Exponential => Exponential(steps, schedule.SigmaMin, schedule.SigmaMax),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>k-diffusion <c>DiscreteSchedule.get_sigmas(n)</c>.</summary>
    public static float[] Normal(int steps, DiscreteSchedule schedule)
    {
        var t = TorchLinspace.F32(schedule.Count - 1, 0f, steps);
        var sigmas = new float[steps + 1];
        for (int i = 0; i < steps; i++) sigmas[i] = schedule.TimestepToSigma(t[i]);
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
}
