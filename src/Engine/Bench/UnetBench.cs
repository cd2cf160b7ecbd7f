using LayerDiffusion.Native.Models;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// One SDXL UNet step: noisy latent [B, C, H/8, W/8], one timestep per row, a 77-token context and the pooled/size
/// vector, as a CFG sampler calls it (batch 2 is one step of batch-1 CFG). The unpatched UNet: the attention LoRA
/// and the conv offsets are merged into the weights, so the patched UNet costs the same.
/// </summary>
public static class UnetBench
{
    public static void Run(BenchContext ctx)
    {
        var unet = ctx.Unet;
        var cfg = unet.Config;
        foreach (var (w, h) in ctx.Settings.Sizes)
            foreach (int batch in ctx.Settings.Batches)
            {
                using var x = ctx.Input(-1, 1, batch, unet.InChannels, h / 8, w / 8);
                using var context = ctx.Input(-1, 1, batch, 77, cfg.ContextDim);
                using var y = cfg.AdmInChannels > 0 ? ctx.Input(-1, 1, batch, cfg.AdmInChannels) : null;
                var t = Enumerable.Repeat(500f, batch).ToArray();
                ctx.Runner.Measure("unet_step", BenchParams.Image(batch, w, h), ctx.Settings.DType,
                    () => ctx.Finish(unet.Forward(x, t, context, y)));
            }
    }

    /// <summary>
    /// The sampler's per-step UNet call as GuidedDenoiser makes it (upload x, the UNet forward, read ε back), three
    /// ways on one loaded UNet: unet_call_eager (every op launched, K and V of the context recomputed), unet_call_kv
    /// (the context held: cross-attention K/V computed once, see ConstantProducts) and, where the backend records
    /// forwards, unet_call (K/V cache and a CUDA graph replay; two warm-up runs: the eager warm-up and the capture).
    /// </summary>
    public static void Call(BenchContext ctx)
    {
        var unet = ctx.Unet;
        var cfg = unet.Config;
        var b = unet.Weights.Backend;
        // One recorder for every shape, as one denoiser keeps one: a new shape is a new key, so the graph of the
        // previous shape is dropped and the new one captured.
        using var graph = b.CreateForwardGraph();
        foreach (var (w, h) in ctx.Settings.Sizes)
            foreach (int batch in ctx.Settings.Batches)
            {
                var rng = new System.Random(batch * 7919 + w);
                var xHost = new float[batch * unet.InChannels * (h / 8) * (w / 8)];
                for (int i = 0; i < xHost.Length; i++) xHost[i] = (float)(rng.NextDouble() * 2 - 1);
                using var context = ctx.Input(-1, 1, batch, 77, cfg.ContextDim);
                using var y = cfg.AdmInChannels > 0 ? ctx.Input(-1, 1, batch, cfg.AdmInChannels) : null;
                var t = Enumerable.Repeat(500f, batch).ToArray();
                var uploads = new[] { xHost, SinusoidalEmbedding.Of(t, cfg.ModelChannels) };
                var shape = BenchParams.Image(batch, w, h);
                Tensors.Tensor Forward() => unet.Forward(b.FromHost(xHost, batch, unet.InChannels, h / 8, w / 8), t, context, y);
                void Eager()
                {
                    using var scope = Tensors.TensorScope.Open();
                    b.ToHost(Forward());
                }
                ctx.Runner.Measure("unet_call_eager", shape, ctx.Settings.DType, Eager, note: "no K/V cache, no graph");
                using var hold = b.HoldProductsOf([context]);
                ctx.Runner.Measure("unet_call_kv", shape, ctx.Settings.DType, Eager, note: "cross-attention K/V cached", minWarmup: 1);
                if (graph is null) continue;
                var key = (unet, context, batch, w, h);
                ctx.Runner.Measure("unet_call", shape, ctx.Settings.DType, () => graph.Run(key, uploads, Forward),
                    note: "K/V cache + CUDA graph replays", minWarmup: 2);
                if (graph.EagerReason is { } why) ctx.Runner.UpdateLast(r => r with { Note = "graph capture failed, eager: " + why });
            }
    }
}
