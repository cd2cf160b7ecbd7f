using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Cli;

/// <summary>Forge's display names for samplers and schedule types, as its infotext writes them.</summary>
public static class SamplerDisplay
{
    public static string Name(SamplerKind k) => k.ForgeLabel();

    /// <summary>
    /// The "Schedule type" Forge writes for what ran: the schedule's label, or "Automatic" where Forge's Automatic
    /// uses the model's own sigmas (Euler, Euler a, LMS, Heun, LCM) or the sampler ignores schedules (DDIM, UniPC).
    /// Forge reads Automatic back as the sampler's default, so a named default (Karras for DPM++ 2M) is written as
    /// its label, as Forge does.
    /// </summary>
    public static string ScheduleType(SamplerChoice c) =>
        c.Sampler.IsTimestepsSampler() || (c.Automatic && c.Sampler.ForgeScheduler() is null) ? "Automatic" : c.Schedule.ForgeLabel();

    /// <summary>
    /// The parameters Forge adds for the schedule (sd_samplers_kdiffusion.get_sigmas): "Beta schedule alpha" and
    /// "Beta schedule beta" for the Beta schedule.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> ScheduleParameters(SamplerChoice c)
    {
        if (c.Sampler.IsTimestepsSampler() || c.Schedule != ScheduleKind.Beta) yield break;
        yield return new("Beta schedule alpha", Pipelines.Infotext.Number(SigmaSchedules.BetaAlpha));
        yield return new("Beta schedule beta", Pipelines.Infotext.Number(SigmaSchedules.BetaBeta));
    }
}
