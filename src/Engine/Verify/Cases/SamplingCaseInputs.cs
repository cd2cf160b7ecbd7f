using System.Text.Json;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>What the UNet-driven sampler cases share: noise, and the CFG conditioning in the order settings.cfg_batch names.</summary>
internal static class SamplingCaseInputs
{
    /// <summary>[B, C, H, W] of the initial noise.</summary>
    public static int[] NoiseShape(CaseContext ctx) => ctx.InputShape("noise");

    /// <summary>The case's context and y split into the CFG halves on the case's backend.</summary>
    public static CfgConditioning Conditioning(CaseContext ctx)
    {
        // settings.cfg_batch names the row order of context and y (negative rows first unless it says otherwise).
        bool positiveFirst = ctx.Settings.TryGetProperty("cfg_batch", out var order) && order.ValueKind == JsonValueKind.Array
            && order.GetArrayLength() == 2 && order[0].GetString() == "positive";
        return CfgConditioning.FromCfgBatch(ctx.Backend, ctx.InputF32("context"), ctx.InputShape("context"), ctx.InputF32("y"), ctx.InputShape("y"),
            negativeFirst: !positiveFirst);
    }

    public static float Cfg(CaseContext ctx) => ctx.Settings.GetProperty("cfg").GetSingle();
    public static int Steps(CaseContext ctx) => ctx.Settings.GetProperty("steps").GetInt32();

    public static TimestepMode Timesteps(JsonElement settings) =>
        settings.TryGetProperty("timesteps", out var t) && t.GetString() == "fractional" ? TimestepMode.Fractional : TimestepMode.Quantized;

    /// <summary>The sampler, schedule, step count and timestep mode the case's settings name.</summary>
    public static SamplerSettings Sampler(CaseContext ctx) =>
        SamplerSettings.Parse(ctx.Settings.GetProperty("sampler").GetString()!, ctx.Settings.GetProperty("schedule").GetString(),
            Steps(ctx), Timesteps(ctx.Settings));

    /// <summary>
    /// The Stop At runs settings.outputs names (output name, stop_at), after emitting the switch sigma of each run the
    /// case asks for as sigma_end_SUFFIX (percent_to_sigma(stop_at): it needs no model).
    /// </summary>
    public static (string Name, double StopAt)[] StopAtRuns(CaseContext ctx, DiscreteSchedule schedule)
    {
        var runs = ctx.Settings.GetProperty("outputs").EnumerateObject()
            .Select(o => (o.Name, StopAt: o.Value.GetProperty("stop_at").GetDouble())).ToArray();
        foreach (var output in ctx.Case.Outputs.Where(o => o.Name.StartsWith("sigma_end_", StringComparison.Ordinal)))
        {
            string suffix = output.Name["sigma_end_".Length..];
            foreach (var run in runs.Where(r => r.Name == suffix || r.Name.EndsWith("_" + suffix, StringComparison.Ordinal)))
                ctx.Emit(output.Name, [(float)schedule.PercentToSigma(run.StopAt)]);
        }
        return runs;
    }

    /// <summary>Samples one Stop At run and emits its latent and, where the case asks, which steps ran the patched UNet.</summary>
    public static void EmitStopAtRun(CaseContext ctx, string name, SamplerSettings settings, DiscreteSchedule schedule, GuidedDenoiser denoiser,
        float[] noise)
    {
        ctx.Emit(name, Sampling.Sampler.Run(settings, schedule, denoiser.Model, noise));
        if (ctx.Wants(name + "_patched_steps"))
            ctx.Emit(name + "_patched_steps", denoiser.PatchedCalls.Select(p => p ? 1L : 0L).ToArray());
    }

    /// <summary>The x_T rule the k-diffusion runs implement (A1111/Forge txt2img).</summary>
    public static bool IsNoiseTimesSigma0(JsonElement settings) =>
        !settings.TryGetProperty("x_T", out var x) || x.GetString()?.Replace(" ", "") == "noise*sigmas[0]";
}
