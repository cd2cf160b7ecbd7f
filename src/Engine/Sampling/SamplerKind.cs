namespace LayerDiffusion.Native.Sampling;

/// <summary>The samplers this engine implements (k-diffusion's, and Forge's UniPC).</summary>
public enum SamplerKind
{
    /// <summary>k-diffusion <c>sample_euler</c> (no churn).</summary>
    Euler,
    /// <summary>k-diffusion <c>sample_euler_ancestral</c>, eta 1, s_noise 1.</summary>
    EulerAncestral,
    /// <summary>k-diffusion <c>sample_dpmpp_2m</c>.</summary>
    DpmPp2m,
    /// <summary>k-diffusion <c>sample_dpmpp_2m_sde</c>, midpoint solver, eta 1, s_noise 1.</summary>
    DpmPp2mSde,
    /// <summary>Forge/A1111 UniPC (bh1, order 3, time-uniform, lower order final); a timesteps sampler.</summary>
    UniPc,
}

public static class SamplerKindExtensions
{
    /// <summary>The engine's canonical name (what <see cref="SamplerChoice.Parse"/> accepts first).</summary>
    public static string Name(this SamplerKind kind) => kind switch
    {
        SamplerKind.Euler => "euler",
        SamplerKind.EulerAncestral => "euler_a",
        SamplerKind.DpmPp2m => "dpmpp_2m",
        SamplerKind.DpmPp2mSde => "dpmpp_2m_sde",
        SamplerKind.UniPc => "unipc",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Whether the sampler adds fresh noise each step (and so needs a step-noise source).</summary>
    public static bool IsStochastic(this SamplerKind kind) => kind is SamplerKind.EulerAncestral or SamplerKind.DpmPp2mSde;

    /// <summary>Forge's "Automatic" schedule for the sampler.</summary>
    public static ScheduleKind DefaultSchedule(this SamplerKind kind) => kind switch
    {
        SamplerKind.DpmPp2m => ScheduleKind.Karras,
        SamplerKind.DpmPp2mSde => ScheduleKind.Exponential,
        _ => ScheduleKind.Normal,
    };

    public static string Name(this ScheduleKind kind) => kind switch
    {
        ScheduleKind.Normal => "normal",
        ScheduleKind.Karras => "karras",
        ScheduleKind.Exponential => "exponential",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
