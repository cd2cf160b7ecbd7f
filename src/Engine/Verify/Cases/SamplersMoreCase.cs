using System.Text.Json;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// samplers_more: Forge's schedules (sigmas_*) and the rest of its k-diffusion samplers (settings.samplers), each on
/// the schedule Forge picks for it, driving the tiny UNet with CFG from the same noise. Samplers that draw noise
/// replay their recorded per-step noises; the (sigma, sigma_next) of every noise call is reported.
/// </summary>
public sealed class SamplersMoreCase : ICaseRunner
{
    public string CaseName => "samplers_more";

    // The k-diffusion function each sampler runs (Forge's samplers_k_diffusion; LCM from sd_samplers_lcm.py).
    private static readonly Dictionary<SamplerKind, string> Functions = new()
    {
        [SamplerKind.Euler] = "sample_euler", [SamplerKind.EulerAncestral] = "sample_euler_ancestral", [SamplerKind.Lms] = "sample_lms",
        [SamplerKind.Heun] = "sample_heun", [SamplerKind.Dpm2] = "sample_dpm_2", [SamplerKind.Dpm2Ancestral] = "sample_dpm_2_ancestral",
        [SamplerKind.DpmPp2sAncestral] = "sample_dpmpp_2s_ancestral", [SamplerKind.DpmPpSde] = "sample_dpmpp_sde",
        [SamplerKind.DpmPp2m] = "sample_dpmpp_2m", [SamplerKind.DpmPp2mSde] = "sample_dpmpp_2m_sde", [SamplerKind.DpmPp2mSdeHeun] = "sample_dpmpp_2m_sde",
        [SamplerKind.DpmPp3mSde] = "sample_dpmpp_3m_sde", [SamplerKind.Lcm] = "sample_lcm",
    };

    public void Run(CaseContext ctx)
    {
        var s = ctx.Settings;
        var schedule = DiscreteSchedule.Sdxl;
        int steps = SamplingCaseInputs.Steps(ctx);
        EmitSchedules(ctx, s, schedule, steps);

        if (!SamplingCaseInputs.IsNoiseTimesSigma0(s)) return; // another x_T rule: leave the runs unemitted
        var unet = SdxlUnet.Load(ctx.Backend, ctx.Checkpoint);
        var noise = ctx.InputF32("noise");
        using var guided = new GuidedDenoiser(unet, SamplingCaseInputs.Conditioning(ctx), SamplingCaseInputs.Cfg(ctx), SamplingCaseInputs.NoiseShape(ctx)[1..]);
        var model = guided.Model;
        var timesteps = SamplingCaseInputs.Timesteps(s);

        foreach (var entry in s.GetProperty("samplers").EnumerateObject())
        {
            var spec = entry.Value;
            if (Reproducible(entry.Name, spec) is not { } choice) continue; // a configuration this engine does not run: SKIP
            var settings = new SamplerSettings(choice.Sampler, choice.Schedule, steps, timesteps);
            ctx.Emit(Name(spec, "sigmas", entry.Name + "_sigmas"), Sampler.Sigmas(settings, schedule));

            RecordingStepNoise? stepNoise = null;
            if (spec.TryGetProperty("noise", out var noiseName))
            {
                string name = noiseName.GetString()!;
                stepNoise = new RecordingStepNoise(new SequentialStepNoise(RecordedNoiseSource.FromStacked(ctx.InputF32(name), ctx.InputShape(name)[0])));
            }
            float[]? denoised0 = null;
            var result = Sampler.Run(settings, schedule, model, noise, stepNoise,
                step => { if (step.Index == 0) denoised0 ??= (float[])step.Denoised.Clone(); });
            ctx.Emit(entry.Name + "_out", result);
            ctx.Emit(entry.Name + "_denoised_step0", denoised0!);
            if (stepNoise is not null && spec.TryGetProperty("noise_pairs", out var pairsName))
                ctx.Emit(pairsName.GetString()!, stepNoise.Pairs.SelectMany(p => new[] { p.Sigma, p.Next }).ToArray());
        }
    }

    /// <summary>sigmas_*: each of Forge's schedules for `steps` over the predictor's table.</summary>
    private static void EmitSchedules(CaseContext ctx, JsonElement s, DiscreteSchedule schedule, int steps)
    {
        double alpha = s.TryGetProperty("beta_dist_alpha", out var a) ? a.GetDouble() : SigmaSchedules.BetaAlpha;
        double beta = s.TryGetProperty("beta_dist_beta", out var b) ? b.GetDouble() : SigmaSchedules.BetaBeta;
        string model = s.TryGetProperty("model", out var m) ? m.GetString() ?? "" : "";
        foreach (var output in ctx.Case.Outputs)
        {
            if (!output.Name.StartsWith("sigmas_", StringComparison.Ordinal)) continue;
            string name = output.Name["sigmas_".Length..];
            // Align Your Steps has one table per model family; only SDXL's is this engine's.
            if (name.EndsWith("_sdxl", StringComparison.Ordinal))
            {
                if (model != "sdxl") continue;
                name = name[..^"_sdxl".Length];
            }
            if (ScheduleNames.Find(name) is not { } kind) continue;
            ctx.Emit(output.Name, kind == ScheduleKind.Beta
                ? SigmaSchedules.Beta(steps, schedule.SigmaMin, schedule.SigmaMax, alpha, beta)
                : SigmaSchedules.Build(kind, steps, schedule));
        }
    }

    /// <summary>The sampler and schedule of an entry, or null when its settings are not what this engine runs.</summary>
    private static SamplerChoice? Reproducible(string key, JsonElement spec)
    {
        string label = spec.TryGetProperty("forge_label", out var l) ? l.GetString()! : key;
        if (SamplerKindExtensions.Find(label) is not { } kind) return null;
        if (spec.TryGetProperty("function", out var f) && (!Functions.TryGetValue(kind, out var fn) || fn != f.GetString())) return null;
        if (spec.TryGetProperty("discard_penultimate_sigma", out var d) && d.GetBoolean() != kind.DiscardsPenultimateSigma()) return null;
        bool Is(string property, double value) => !spec.TryGetProperty(property, out var v) || v.GetDouble() == value;
        if (!Is("eta", 1) || !Is("s_noise", 1) || !Is("s_churn", 0) || !Is("r", 0.5) || !Is("order", LinearMultistep.DefaultOrder)) return null;
        string solver = spec.TryGetProperty("solver_type", out var st) ? st.GetString()! : "midpoint";
        if (kind is SamplerKind.DpmPp2mSde or SamplerKind.DpmPp2mSdeHeun && solver != (kind == SamplerKind.DpmPp2mSdeHeun ? "heun" : "midpoint")) return null;
        // "lcm" is LCM's own Automatic (its table's get_sigmas).
        string schedule = spec.GetProperty("schedule").GetString()!;
        if (schedule == "lcm") return kind == SamplerKind.Lcm ? SamplerChoice.Parse(kind.Name()) : null;
        return SamplerChoice.Parse(kind.Name(), schedule);
    }

    private static string Name(JsonElement spec, string property, string fallback) =>
        spec.TryGetProperty(property, out var v) && v.GetString() is { } s ? s : fallback;

    /// <summary>Passes step noise through and records the (sigma, sigma_next) of every call.</summary>
    private sealed class RecordingStepNoise(IStepNoise inner) : IStepNoise
    {
        public List<(float Sigma, float Next)> Pairs { get; } = [];

        public float[] Between(float sigma, float sigmaNext)
        {
            Pairs.Add((sigma, sigmaNext));
            return inner.Between(sigma, sigmaNext);
        }
    }
}
