using LayerDiffusion.Native.LayerDiffusion.Sd15;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// sd15_e2e_fg2bg / sd15_e2e_joint: an SD1.5 attention-sharing method end to end from its settings (and the control
/// image where it has one), through the pipeline `ld generate` runs: prompts and frame prompts → CPU-RNG noise →
/// hooked UNet with CFG → VAE → bytes, and the transparent decoder for the frames the extension decodes.
/// </summary>
public sealed class Sd15E2eCase(string caseName) : ICaseRunner
{
    public string CaseName => caseName;

    public void Run(CaseContext ctx)
    {
        var s = ctx.Settings;
        string Str(string k) => s.GetProperty(k).GetString()!;
        var method = LayerMethods.Parse("method", "sd15-" + Str("method"));
        if (s.TryGetProperty("transparent_decode", out var td) && td.ValueKind == System.Text.Json.JsonValueKind.Object
            && td.TryGetProperty("decoder", out var dec) && dec.GetString() != "8-way median")
            throw new NotSupportedException($"decoder '{dec.GetString()}'");
        var settings = EndToEndSettings.Read(s, method) with
        {
            FgPrompt = Str("fg_additional_prompt"),
            BgPrompt = Str("bg_additional_prompt"),
            BlendPrompt = Str("blend_additional_prompt"),
            Batch = s.GetProperty("batch").GetInt32(),
        };
        var inputs = new GenerationInputs();
        if (s.TryGetProperty("control_image", out var ci) && ci.ValueKind == System.Text.Json.JsonValueKind.String)
        {
            var shape = ctx.InputShape(ci.GetString()!);
            var image = new RgbaImage(shape[1], shape[0], ctx.InputU8(ci.GetString()!));
            inputs = method == LayerMethod.Sd15Bg2Fg ? inputs with { Background = image } : inputs with { Foreground = image };
        }
        bool decodes = LayerMethods.OutputsTransparent(method);
        var paths = new ModelPaths
        {
            Checkpoint = ctx.WeightsPathWhere(f => f.Contains(CaseContext.UnetMarker), "an SD1.5 checkpoint"),
            LayerModel = ctx.WeightsPathWhere(AttentionSharingModel.Is, "an SD1.5 attention-sharing file"),
            TransparentDecoder = decodes ? ctx.WeightsPathWhere(f => f.Contains("latent_conv_in.weight"), "the transparent decoder") : null,
        };
        var tokenizer = ClipTokenizer.Load(ctx.UsesPathEndingWith(".txt.gz") ?? throw new NotSupportedException("no vocab declared"));
        using var models = new ModelBundle(ctx.Backend, paths, tokenizer);
        var r = new LayerPipeline(models).Run(settings, inputs);
        ctx.Emit("noise", r.Noise);
        ctx.Emit("context_negative", r.Negative.Context);
        ctx.Emit("context_positive", r.Positive.Context);
        for (int f = 0; f < r.FramePrompts.Count; f++)
            if (r.FramePrompts[f] is { } e && ctx.Wants($"context_overwrite{f}")) ctx.Emit($"context_overwrite{f}", e.Context);
        ctx.Emit("latent", r.Latent);
        ctx.Emit("rgb_uint8", r.Images.SelectMany(i => i.Rgb).ToArray());
        var transparent = r.Images.Where(i => i.Rgba is not null).ToList();
        if (ctx.Wants("png_rgba") && transparent.Count > 0) ctx.Emit("png_rgba", transparent.SelectMany(i => i.Rgba!).ToArray());
        if (ctx.Wants("vis_rgb") && transparent.Count > 0) ctx.Emit("vis_rgb", transparent.SelectMany(i => i.Preview!).ToArray());
    }
}
