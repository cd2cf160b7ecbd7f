using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// samplers: the discrete schedule, sigma schedules, and each k-diffusion sampler of settings.samplers driving the
/// tiny UNet with CFG from the same noise; stochastic samplers replay their recorded per-step noises.
/// </summary>
public sealed class SamplersCase : ICaseRunner
{
    public string CaseName => "samplers";

    public void Run(CaseContext ctx)
    {
        var schedule = Models.ModelFamily.Detect(ctx.Checkpoint).Schedule;
        int steps = SamplingCaseInputs.Steps(ctx);
        if (ctx.Wants("alphas_cumprod")) ctx.Emit("alphas_cumprod", schedule.AlphasCumprod);
        foreach (var output in ctx.Case.Outputs)
        {
            if (!output.Name.StartsWith("sigmas_", StringComparison.Ordinal)) continue;
            var kind = SamplerChoice.Parse("euler", output.Name["sigmas_".Length..]).Schedule;
            ctx.Emit(output.Name, SigmaSchedules.Build(kind, steps, schedule));
        }

        if (!SamplingCaseInputs.IsNoiseTimesSigma0(ctx.Settings)) return; // another x_T rule: leave the runs unemitted
        var unet = SdxlUnet.Load(ctx.Backend, ctx.Checkpoint);
        var noise = ctx.InputF32("noise");
        using var denoiser = new GuidedDenoiser(unet, SamplingCaseInputs.Conditioning(ctx), SamplingCaseInputs.Cfg(ctx), SamplingCaseInputs.NoiseShape(ctx)[1..]);
        var timesteps = SamplingCaseInputs.Timesteps(ctx.Settings);

        foreach (var entry in ctx.Settings.GetProperty("samplers").EnumerateObject())
        {
            var spec = entry.Value;
            var choice = SamplerChoice.Parse(entry.Name, spec.GetProperty("schedule").GetString());
            double eta = spec.TryGetProperty("eta", out var e) ? e.GetDouble() : 0;
            // The samplers run eta 1 when stochastic and have no eta otherwise; any other setting is not reproduced.
            if (eta != (choice.Sampler.IsStochastic() ? 1.0 : 0.0)) continue;

            IStepNoise? stepNoise = null;
            if (spec.TryGetProperty("noise", out var noiseName))
            {
                string name = noiseName.GetString()!;
                stepNoise = new SequentialStepNoise(RecordedNoiseSource.FromStacked(ctx.InputF32(name), ctx.InputShape(name)[0]));
            }

            float[]? denoised0 = null;
            var settings = new SamplerSettings(choice.Sampler, choice.Schedule, steps, timesteps);
            var result = Sampler.Run(settings, schedule, denoiser.Model, noise, stepNoise,
                step => { if (step.Index == 0) denoised0 = (float[])step.Denoised.Clone(); });
            ctx.Emit(entry.Name + "_out", result);
            ctx.Emit(entry.Name + "_denoised_step0", denoised0!);
        }
    }
}
