namespace LayerDiffusion.Native.Sampling;

/// <summary>The samplers this engine implements: Forge's k-diffusion samplers, its LCM, and its timesteps samplers DDIM and UniPC.</summary>
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
    /// <summary>k-diffusion <c>sample_lms</c>, order 4.</summary>
    Lms,
    /// <summary>k-diffusion <c>sample_heun</c> (no churn): two model calls per step but the last.</summary>
    Heun,
    /// <summary>k-diffusion <c>sample_dpm_2</c> (no churn): a midpoint step in log σ.</summary>
    Dpm2,
    /// <summary>k-diffusion <c>sample_dpm_2_ancestral</c>, eta 1, s_noise 1.</summary>
    Dpm2Ancestral,
    /// <summary>k-diffusion <c>sample_dpmpp_2s_ancestral</c>, eta 1, s_noise 1.</summary>
    DpmPp2sAncestral,
    /// <summary>k-diffusion <c>sample_dpmpp_sde</c>, eta 1, s_noise 1, r = ½.</summary>
    DpmPpSde,
    /// <summary>k-diffusion <c>sample_dpmpp_2m_sde</c> with the Heun solver, eta 1, s_noise 1.</summary>
    DpmPp2mSdeHeun,
    /// <summary>k-diffusion <c>sample_dpmpp_3m_sde</c>, eta 1, s_noise 1.</summary>
    DpmPp3mSde,
    /// <summary>Forge's <c>sample_lcm</c> (modules/sd_samplers_lcm.py) on LCM's 50-step sigma table.</summary>
    Lcm,
    /// <summary>Forge/A1111 DDIM (modules/sd_samplers_timesteps_impl.py, eta 0); a timesteps sampler.</summary>
    Ddim,
}

/// <summary>Where a sampler's per-step noise comes from in Forge.</summary>
public enum StepNoiseKind
{
    /// <summary>No noise is added (draws Forge makes and multiplies by 0 change nothing).</summary>
    None,
    /// <summary><c>torch.randn_like</c>, which Forge routes to the next draw of each image's generator (ImageRNG).</summary>
    Sequential,
    /// <summary>k-diffusion's <c>BrownianTreeNoiseSampler</c> with one torchsde tree per image seed.</summary>
    Brownian,
}

public static class SamplerKindExtensions
{
    private sealed record Entry(SamplerKind Kind, string Name, string ForgeLabel, string[] Aliases, ScheduleKind? ForgeScheduler,
        bool DiscardPenultimate = false, StepNoiseKind Noise = StepNoiseKind.None, bool Timesteps = false);

    // Forge's modules/sd_samplers_kdiffusion.py `samplers_k_diffusion` (label, aliases, options 'scheduler',
    // 'discard_next_to_last_sigma', 'brownian_noise'), sd_samplers_lcm.py and sd_samplers_timesteps.py.
    private static readonly Entry[] Table =
    [
        new(SamplerKind.DpmPp2m, "dpmpp_2m", "DPM++ 2M", ["k_dpmpp_2m"], ScheduleKind.Karras),
        new(SamplerKind.DpmPpSde, "dpmpp_sde", "DPM++ SDE", ["k_dpmpp_sde"], ScheduleKind.Karras, Noise: StepNoiseKind.Brownian),
        new(SamplerKind.DpmPp2mSde, "dpmpp_2m_sde", "DPM++ 2M SDE", ["k_dpmpp_2m_sde"], ScheduleKind.Exponential, Noise: StepNoiseKind.Brownian),
        new(SamplerKind.DpmPp2mSdeHeun, "dpmpp_2m_sde_heun", "DPM++ 2M SDE Heun", ["k_dpmpp_2m_sde_heun"], ScheduleKind.Exponential, Noise: StepNoiseKind.Brownian),
        new(SamplerKind.DpmPp2sAncestral, "dpmpp_2s_a", "DPM++ 2S a", ["k_dpmpp_2s_a"], ScheduleKind.Karras, Noise: StepNoiseKind.Sequential),
        new(SamplerKind.DpmPp3mSde, "dpmpp_3m_sde", "DPM++ 3M SDE", ["k_dpmpp_3m_sde"], ScheduleKind.Exponential, DiscardPenultimate: true, Noise: StepNoiseKind.Brownian),
        new(SamplerKind.EulerAncestral, "euler_a", "Euler a", ["k_euler_a", "k_euler_ancestral", "euler_ancestral"], null, Noise: StepNoiseKind.Sequential),
        new(SamplerKind.Euler, "euler", "Euler", ["k_euler"], null),
        new(SamplerKind.Lms, "lms", "LMS", ["k_lms"], null),
        new(SamplerKind.Heun, "heun", "Heun", ["k_heun"], null),
        new(SamplerKind.Dpm2, "dpm_2", "DPM2", ["k_dpm_2", "dpm2"], ScheduleKind.Karras, DiscardPenultimate: true),
        new(SamplerKind.Dpm2Ancestral, "dpm_2_a", "DPM2 a", ["k_dpm_2_a", "dpm2_a"], ScheduleKind.Karras, DiscardPenultimate: true, Noise: StepNoiseKind.Sequential),
        new(SamplerKind.Lcm, "lcm", "LCM", ["k_lcm"], null, Noise: StepNoiseKind.Sequential),
        new(SamplerKind.Ddim, "ddim", "DDIM", [], null, Timesteps: true),
        new(SamplerKind.UniPc, "unipc", "UniPC", ["uni_pc"], null, Timesteps: true),
    ];

    private static readonly Dictionary<string, SamplerKind> ByName = BuildLookup();

    private static Dictionary<string, SamplerKind> BuildLookup()
    {
        var map = new Dictionary<string, SamplerKind>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in Table)
        {
            map[e.Name] = e.Kind;
            map[e.ForgeLabel] = e.Kind;
            foreach (var a in e.Aliases) map[a] = e.Kind;
        }
        return map;
    }

    public static string Valid => string.Join(", ", Table.Select(e => e.Name)) +
        " (or Forge's names such as \"Euler a\", \"DPM++ 2M\", \"DPM++ 2M SDE Karras\", \"UniPC\")";

    /// <summary>A sampler by our name, Forge's label or alias, ignoring case; null if unknown.</summary>
    public static SamplerKind? Find(string name) => ByName.TryGetValue(name.Trim(), out var k) ? k : null;

    /// <summary>Every sampler, in Forge's menu order.</summary>
    public static IEnumerable<SamplerKind> All => Table.Select(e => e.Kind);

    /// <summary>The engine's canonical name (what <see cref="SamplerChoice.Parse"/> accepts first).</summary>
    public static string Name(this SamplerKind kind) => Get(kind).Name;

    /// <summary>Forge's label, as its infotext's "Sampler" writes it.</summary>
    public static string ForgeLabel(this SamplerKind kind) => Get(kind).ForgeLabel;

    /// <summary>Where the sampler's step noise comes from.</summary>
    public static StepNoiseKind StepNoise(this SamplerKind kind) => Get(kind).Noise;

    /// <summary>Whether the sampler adds fresh noise each step (and so needs a step-noise source).</summary>
    public static bool IsStochastic(this SamplerKind kind) => Get(kind).Noise != StepNoiseKind.None;

    /// <summary>A timesteps sampler (DDIM, UniPC): it walks its own timestep grid and ignores the sigma schedule.</summary>
    public static bool IsTimestepsSampler(this SamplerKind kind) => Get(kind).Timesteps;

    /// <summary>Forge's 'discard_next_to_last_sigma': the schedule is built for steps + 1 and its next-to-last sigma dropped.</summary>
    public static bool DiscardsPenultimateSigma(this SamplerKind kind) => Get(kind).DiscardPenultimate;

    /// <summary>The scheduler Forge's "Automatic" picks for the sampler, or null where it uses the model's own sigmas.</summary>
    public static ScheduleKind? ForgeScheduler(this SamplerKind kind) => Get(kind).ForgeScheduler;

    /// <summary>Forge's "Automatic" schedule for the sampler (the model's own sigmas are <see cref="ScheduleKind.Normal"/>).</summary>
    public static ScheduleKind DefaultSchedule(this SamplerKind kind) => Get(kind).ForgeScheduler ?? ScheduleKind.Normal;

    private static Entry Get(SamplerKind kind) =>
        Array.Find(Table, e => e.Kind == kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown sampler");
}
