namespace LayerDiffusion.Native.Bench;

/// <summary>The SDXL VAE at each size, batch 1: encode (pixels in [-1, 1] to posterior mean and log-variance) and decode (unscaled latent to pixels).</summary>
public static class VaeBench
{
    public static void Encode(BenchContext ctx)
    {
        var vae = ctx.Vae;
        foreach (var (w, h) in ctx.Settings.Sizes)
        {
            using var pixels = ctx.VaeInput(-1, 1, 1, 3, h, w);
            ctx.MeasureVae("vae_encode", BenchParams.Image(1, w, h), () =>
            {
                var (mean, logVar) = vae.EncodeMoments(pixels);
                logVar.Dispose();
                ctx.Finish(mean);
            });
        }
    }

    public static void Decode(BenchContext ctx)
    {
        var vae = ctx.Vae;
        foreach (var (w, h) in ctx.Settings.Sizes)
        {
            using var z = ctx.VaeInput(-3, 3, 1, vae.LatentChannels, h / 8, w / 8);
            ctx.MeasureVae("vae_decode", BenchParams.Image(1, w, h), () => ctx.Finish(vae.Decode(z)));
        }
    }
}
