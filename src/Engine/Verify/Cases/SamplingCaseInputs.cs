using System.Text.Json;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>What the UNet-driven sampler cases share: noise, the CFG conditioning in [negative, positive] order.</summary>
internal sealed class SamplingCaseInputs : IDisposable
{
    private SamplingCaseInputs(float[] noise, int[] noiseShape, Tensor context, Tensor y)
    {
        Noise = noise;
        NoiseShape = noiseShape;
        Context = context;
        Y = y;
    }

    public float[] Noise { get; }
    /// <summary>[B, C, H, W].</summary>
    public int[] NoiseShape { get; }
    public int[] ImageShape => NoiseShape[1..];
    /// <summary>[2B, N, D], negative rows first.</summary>
    public Tensor Context { get; }
    public Tensor Y { get; }

    public static SamplingCaseInputs Read(CaseContext ctx)
    {
        var b = ctx.Backend;
        var context = ctx.InputTensor("context", b);
        var y = ctx.InputTensor("y", b);
        // settings.cfg_batch names the row order of context and y; the models want negative rows first.
        if (ctx.Settings.TryGetProperty("cfg_batch", out var order) && order.ValueKind == JsonValueKind.Array
            && order.GetArrayLength() == 2 && order[0].GetString() == "positive")
        {
            (context, y) = (SwapHalves(context), SwapHalves(y));
        }
        return new SamplingCaseInputs(ctx.InputF32("noise"), ctx.InputShape("noise"), context, y);
    }

    private static Tensor SwapHalves(Tensor t)
    {
        var b = t.Backend;
        int half = t.Dim(0) / 2;
        using var first = b.Slice(t, 0, 0, half);
        using var second = b.Slice(t, 0, half, half);
        var swapped = b.Concat(0, second, first);
        t.Dispose();
        return swapped;
    }

    public static float Cfg(CaseContext ctx) => ctx.Settings.GetProperty("cfg").GetSingle();
    public static int Steps(CaseContext ctx) => ctx.Settings.GetProperty("steps").GetInt32();

    public static TimestepMode Timesteps(JsonElement settings) =>
        settings.TryGetProperty("timesteps", out var t) && t.GetString() == "fractional" ? TimestepMode.Fractional : TimestepMode.Quantized;

    /// <summary>The x_T rule the k-diffusion runs implement (A1111/Forge txt2img).</summary>
    public static bool IsNoiseTimesSigma0(JsonElement settings) =>
        !settings.TryGetProperty("x_T", out var x) || x.GetString()?.Replace(" ", "") == "noise*sigmas[0]";

    public void Dispose()
    {
        Context.Dispose();
        Y.Dispose();
    }
}
