using System.Text.Json;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// e2e_transparent: transparent text-to-image from settings alone, through the same pipeline `ld generate` runs:
/// prompts → contexts → CPU-RNG noise → attention LoRA at the weight → sampler with CFG → VAE → 8-way decoder → RGBA.
/// </summary>
public sealed class E2eTransparentCase : ICaseRunner
{
    public string CaseName => "e2e_transparent";

    public void Run(CaseContext ctx)
    {
        var s = ctx.Settings;
        string Str(string k) => s.GetProperty(k).GetString()!;
        var method = LayerMethods.Parse("method", Str("method"));
        if (s.TryGetProperty("decoder", out var dec) && dec.GetString() != "8-way median")
            throw new NotSupportedException($"decoder '{dec.GetString()}'");
        var settings = EndToEndSettings.Read(s, method) with
        {
            Batch = s.TryGetProperty("batch", out var b) ? b.GetInt32() : 1,
            Weight = s.GetProperty("weight").GetSingle(),
        };
        if (s.TryGetProperty("size_conds", out var sc))
        {
            var want = sc.EnumerateArray().Select(v => v.GetSingle()).ToArray();
            if (!want.SequenceEqual(Models.VectorConditioning.SizeConds(settings.Width, settings.Height)))
                throw new NotSupportedException("size conditioning other than the generation size");
        }
        var paths = new ModelPaths
        {
            Checkpoint = ctx.WeightsPathWhere(f => f.Contains(CaseContext.UnetMarker), "an SDXL checkpoint"),
            LayerModel = ctx.WeightsPathWhere(f => f.Names.Any(n => n.Contains("::", StringComparison.Ordinal)), "a LayerDiffusion patch"),
            TransparentDecoder = ctx.WeightsPathWhere(f => f.Contains("latent_conv_in.weight"), "the transparent decoder"),
        };
        var tokenizer = ClipTokenizer.Load(ctx.UsesPathEndingWith(".txt.gz") ?? throw new NotSupportedException("no vocab declared"));
        using var models = new ModelBundle(ctx.Backend, paths, tokenizer);
        var r = new LayerPipeline(models).Run(settings, new GenerationInputs());
        ctx.Emit("noise", r.Noise);
        ctx.Emit("context_negative", r.Negative.Context);
        ctx.Emit("context_positive", r.Positive.Context);
        ctx.Emit("latent", r.Latent);
        ctx.Emit("rgb_uint8", r.Images.SelectMany(i => i.Rgb).ToArray());
        ctx.Emit("png_rgba", r.Images.SelectMany(i => i.Rgba!).ToArray());
    }
}
