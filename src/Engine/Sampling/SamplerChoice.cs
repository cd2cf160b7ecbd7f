namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// A sampler and its sigma schedule, parsed from user-facing names as Forge reads them.
/// </summary>
/// <remarks>
/// Sampler names (case-insensitive): ours (<c>euler</c>, <c>dpmpp_2m_sde</c>, …), Forge's labels ("Euler a",
/// "DPM++ 2M SDE", …) and aliases (<c>k_euler_a</c>, …). Schedule names: ours, Forge's scheduler names and labels
/// ("SGM Uniform", …). A sampler name may end with a schedule (" Karras", "_karras", " SGM Uniform"), which sets the
/// schedule — and, as in Forge's <c>get_sampler_and_scheduler</c>, wins over an explicit schedule argument
/// (<see cref="IgnoredSchedule"/> then names the argument that lost). Without either, the sampler's Forge
/// "Automatic" schedule applies (DPM++ 2M → karras, DPM++ 2M SDE → exponential, Euler → normal, …). DDIM and UniPC
/// step through their own timestep grids and ignore the schedule, as Forge does.
/// </remarks>
public readonly record struct SamplerChoice(SamplerKind Sampler, ScheduleKind Schedule)
{
    /// <summary>True when the schedule is the sampler's Forge "Automatic" (neither named nor given).</summary>
    public bool Automatic { get; init; }

    /// <summary>An explicit schedule argument that the schedule in the sampler's name overrode (Forge's rule), else null.</summary>
    public string? IgnoredSchedule { get; init; }

    public static string ValidSamplers => SamplerKindExtensions.Valid;
    public const string ValidSchedules = ScheduleNames.Valid;

    /// <param name="sampler">A sampler name, possibly with a schedule suffix.</param>
    /// <param name="schedule">null or "automatic" to keep the name's schedule or the sampler's default.</param>
    public static SamplerChoice Parse(string sampler, string? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        var (kind, fromName) = ParseSamplerName(sampler);

        ScheduleKind? requested = null;
        if (schedule is not null && !schedule.Trim().Equals("automatic", StringComparison.OrdinalIgnoreCase))
            requested = ScheduleNames.Find(schedule)
                ?? throw new InvalidOptionException("schedule", $"unknown schedule '{schedule}'; valid: {ValidSchedules}");

        var chosen = fromName ?? requested;
        return new SamplerChoice(kind, chosen ?? kind.DefaultSchedule())
        {
            Automatic = chosen is null,
            IgnoredSchedule = fromName is not null && requested is not null && requested != fromName ? schedule!.Trim() : null,
        };
    }

    private static (SamplerKind Kind, ScheduleKind? FromName) ParseSamplerName(string sampler)
    {
        string name = sampler.Trim();
        if (SamplerKindExtensions.Find(name) is { } exact) return (exact, null);
        foreach (var (suffix, schedule) in ScheduleNames.Spellings)
        {
            if (name.Length <= suffix.Length + 1 || !name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            char sep = name[name.Length - suffix.Length - 1];
            if (sep != ' ' && sep != '_') continue;
            if (SamplerKindExtensions.Find(name[..^(suffix.Length + 1)]) is { } kind) return (kind, schedule);
        }
        throw new InvalidOptionException("sampler", $"unknown sampler '{sampler}'; valid: {ValidSamplers}");
    }

    public override string ToString() => $"{Sampler.Name()} ({Schedule.Name()})";
}
