namespace LayerDiffusion.Native.Sampling;

/// <summary>What to sample with: sampler, sigma schedule, step count and the sigma → timestep rule.</summary>
public sealed record SamplerSettings(SamplerKind Sampler, ScheduleKind Schedule, int Steps, TimestepMode Timesteps = TimestepMode.Quantized)
{
    /// <summary>From user-facing names (see <see cref="SamplerChoice.Parse"/>).</summary>
    public static SamplerSettings Parse(string sampler, string? schedule, int steps, TimestepMode timesteps = TimestepMode.Quantized)
    {
        var choice = SamplerChoice.Parse(sampler, schedule);
        var settings = new SamplerSettings(choice.Sampler, choice.Schedule, steps, timesteps);
        settings.Validate();
        return settings;
    }

    public void Validate()
    {
        if (Steps < 1) throw new InvalidOptionException("steps", $"must be at least 1 (got {Steps})");
        if (!Enum.IsDefined(Sampler)) throw new InvalidOptionException("sampler", $"unknown sampler {(int)Sampler}; valid: {SamplerChoice.ValidSamplers}");
        if (!Enum.IsDefined(Schedule)) throw new InvalidOptionException("schedule", $"unknown schedule {(int)Schedule}; valid: {SamplerChoice.ValidSchedules}");
        if (Sampler == SamplerKind.Ddim && (Steps < 2 || Steps > 1000))
            throw new InvalidOptionException("steps", $"DDIM walks Forge's timestep grid of 2 to 1000 steps, making steps − 1 model calls (got {Steps})");
    }
}
