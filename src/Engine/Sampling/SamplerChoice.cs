namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// A sampler and its sigma schedule, parsed from user-facing names.
/// </summary>
/// <remarks>
/// Accepted sampler names (case-insensitive): the canonical <c>euler</c>, <c>euler_a</c>, <c>dpmpp_2m</c>,
/// <c>dpmpp_2m_sde</c>, <c>unipc</c>; A1111's <c>k_</c> names; and Forge's display names ("Euler a",
/// "DPM++ 2M SDE Karras", …). A name may carry a schedule suffix (" Karras", "_karras", " Exponential") that sets the
/// schedule too; without one the sampler's Forge "Automatic" schedule applies (DPM++ 2M → karras,
/// DPM++ 2M SDE → exponential, otherwise normal). An explicit schedule argument other than "automatic" wins over
/// both. UniPC steps through its own time-uniform grid and ignores the schedule, as Forge does.
/// </remarks>
public readonly record struct SamplerChoice(SamplerKind Sampler, ScheduleKind Schedule)
{
    private static readonly Dictionary<string, SamplerKind> SamplerNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["euler"] = SamplerKind.Euler,
        ["k_euler"] = SamplerKind.Euler,
        ["euler_a"] = SamplerKind.EulerAncestral,
        ["euler a"] = SamplerKind.EulerAncestral,
        ["euler_ancestral"] = SamplerKind.EulerAncestral,
        ["k_euler_a"] = SamplerKind.EulerAncestral,
        ["dpmpp_2m"] = SamplerKind.DpmPp2m,
        ["dpm++ 2m"] = SamplerKind.DpmPp2m,
        ["k_dpmpp_2m"] = SamplerKind.DpmPp2m,
        ["dpmpp_2m_sde"] = SamplerKind.DpmPp2mSde,
        ["dpm++ 2m sde"] = SamplerKind.DpmPp2mSde,
        ["k_dpmpp_2m_sde"] = SamplerKind.DpmPp2mSde,
        ["unipc"] = SamplerKind.UniPc,
        ["uni_pc"] = SamplerKind.UniPc,
    };

    private static readonly Dictionary<string, ScheduleKind> ScheduleNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["normal"] = ScheduleKind.Normal,
        ["uniform"] = ScheduleKind.Normal,
        ["karras"] = ScheduleKind.Karras,
        ["exponential"] = ScheduleKind.Exponential,
    };

    public const string ValidSamplers = "euler, euler_a, dpmpp_2m, dpmpp_2m_sde, unipc (or Forge names such as \"Euler a\", \"DPM++ 2M\", \"DPM++ 2M SDE Karras\", \"UniPC\")";
    public const string ValidSchedules = "automatic, normal, karras, exponential";

    /// <param name="sampler">A sampler name, possibly with a schedule suffix.</param>
    /// <param name="schedule">null or "automatic" to keep the name's schedule or the sampler's default.</param>
    public static SamplerChoice Parse(string sampler, string? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        string name = sampler.Trim();
        ScheduleKind? fromName = null;
        if (!SamplerNames.TryGetValue(name, out var kind))
        {
            foreach (var (suffix, s) in ScheduleNames)
            {
                if (name.Length <= suffix.Length + 1 || !name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
                char sep = name[name.Length - suffix.Length - 1];
                if (sep != ' ' && sep != '_') continue;
                if (SamplerNames.TryGetValue(name[..^(suffix.Length + 1)].TrimEnd(), out kind)) { fromName = s; break; }
            }
            if (fromName is null)
                throw new InvalidOptionException("sampler", $"unknown sampler '{sampler}'; valid: {ValidSamplers}");
        }

        ScheduleKind chosen = fromName ?? kind.DefaultSchedule();
        if (schedule is not null && !schedule.Trim().Equals("automatic", StringComparison.OrdinalIgnoreCase))
        {
            if (!ScheduleNames.TryGetValue(schedule.Trim(), out chosen))
                throw new InvalidOptionException("schedule", $"unknown schedule '{schedule}'; valid: {ValidSchedules}");
        }
        return new SamplerChoice(kind, chosen);
    }

    public override string ToString() => $"{Sampler.Name()} ({Schedule.Name()})";
}
