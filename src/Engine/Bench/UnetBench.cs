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
}
