namespace LayerDiffusion.Native.Bench;

/// <summary>
/// LayerDiffusion's transparent VAE at each size, batch 1: the decoder (UNet1024) once and with the released 8-way
/// flip/rotate augmentation plus median (what generation runs), and the offset encoder (img2img).
/// </summary>
public static class TransparentBench
{
    public static void DecodeSingle(BenchContext ctx) => Decode(ctx, "tdec_single", augmented: false);
    public static void DecodeAugmented(BenchContext ctx) => Decode(ctx, "tdec_8way", augmented: true);

    private static void Decode(BenchContext ctx, string name, bool augmented)
    {
        if (ctx.Files.Decoder is null)
        {
            ctx.Skipped.Add((name, "no transparent decoder (pass --transparent-decoder or --models-dir)"));
            return;
        }
        var dec = ctx.Decoder;
        foreach (var (w, h) in ctx.Settings.Sizes)
        {
            using var pixel = ctx.VaeInput(0, 1, 1, 3, h, w);
            using var latent = ctx.VaeInput(-3, 3, 1, dec.Config.LatentChannels, h / 8, w / 8);
            ctx.MeasureVae(name, BenchParams.Image(1, w, h),
                () => ctx.Finish(augmented ? dec.DecodeAugmented(pixel, latent) : dec.Forward(pixel, latent)));
            if (augmented) ctx.Runner.UpdateLast(r => r with { Note = $"{dec.AutoPassesPerCall(ctx.VaeBackend, 1, h, w)} passes per network call" });
        }
    }

    public static void Encode(BenchContext ctx)
    {
        if (ctx.Files.Encoder is null)
        {
            ctx.Skipped.Add(("tenc", "no transparent encoder (pass --transparent-encoder or --models-dir)"));
            return;
        }
        var enc = ctx.Encoder;
        foreach (var (w, h) in ctx.Settings.Sizes)
        {
            using var input = ctx.VaeInput(0, 1, 1, enc.InChannels, h, w);
            ctx.MeasureVae("tenc", BenchParams.Image(1, w, h), () => ctx.Finish(enc.Forward(input)));
        }
    }
}
