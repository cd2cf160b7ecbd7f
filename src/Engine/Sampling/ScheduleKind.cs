namespace LayerDiffusion.Native.Sampling;

/// <summary>Sigma schedules. Each gives n decreasing sigmas followed by a trailing 0.</summary>
public enum ScheduleKind
{
    /// <summary>k-diffusion <c>get_sigmas(n)</c>: timesteps linspace(999, 0, n), log-sigma interpolated (A1111 "Automatic"/"Uniform", ComfyUI-ish "normal").</summary>
    Normal,
    /// <summary>Karras et al. ρ = 7 between σ_min and σ_max.</summary>
    Karras,
    /// <summary>exp(linspace(ln σ_max, ln σ_min, n)).</summary>
    Exponential,
}
