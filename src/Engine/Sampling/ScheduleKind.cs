namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// Sigma schedules, as Forge's modules/sd_schedulers.py computes them. Each gives n decreasing sigmas followed by a
/// trailing 0.
/// </summary>
public enum ScheduleKind
{
    /// <summary>
    /// The model's <c>get_sigmas(n)</c>: timesteps linspace(T(σ_max), T(σ_min), n), log-sigma interpolated. Forge's
    /// "Normal" and "Uniform" (identical for these models) and "Automatic" of Euler, Euler a, LMS, Heun and LCM.
    /// </summary>
    Normal,
    /// <summary>Karras et al. ρ = 7 between σ_min and σ_max.</summary>
    Karras,
    /// <summary>exp(linspace(ln σ_max, ln σ_min, n)).</summary>
    Exponential,
    /// <summary>Forge "SGM Uniform": timesteps linspace(T(σ_max), T(σ_min), n + 1) without the last, then σ(t).</summary>
    SgmUniform,
    /// <summary>Forge "Simple": every (table size / n)-th entry of the sigma table from the top.</summary>
    Simple,
    /// <summary>Forge "Beta": σ_min + ppf_Beta(α, β)(1 − linspace(0, 1, n))·(σ_max − σ_min), α = β = 0.6.</summary>
    Beta,
    /// <summary>Forge "Align Your Steps" (NVIDIA's 11-step SDXL table, log-linearly interpolated to n steps).</summary>
    AlignYourSteps,
}
