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

    /// <summary>The x_T rule the k-diffusion runs implement (A1111/Forge txt2img).</summary>
    public static bool IsNoiseTimesSigma0(JsonElement settings) =>
        !settings.TryGetProperty("x_T", out var x) || x.GetString()?.Replace(" ", "") == "noise*sigmas[0]";
}
