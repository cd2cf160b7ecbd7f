using System.Text;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Models;

/// <summary>Describes a safetensors file for `ld info`: SDXL checkpoint parts, LayerDiffusion patch files, or a plain summary.</summary>
public static class CheckpointInspector
{
    public static string Describe(SafeTensorsFile f)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"file: {f.Path}");
        sb.AppendLine($"tensors: {f.Tensors.Count}, parameters: {Params(f, ""):N0}, dtypes: {DTypeSummary(f, "")}");
        bool any = false;
        if (f.Names.Any(n => n.Contains("::lora::", StringComparison.Ordinal) || n.Contains("::diff::", StringComparison.Ordinal)))
        {
            DescribePatch(f, sb);
            return sb.ToString();
        }
        // Every family keeps its UNet and VAE under the same ldm prefixes; the text encoders differ.
        string unetPrefix = SdxlUnet.CheckpointPrefix, vaePrefix = Vae.SdxlVae.CheckpointPrefix;
        if (f.Contains(unetPrefix + "input_blocks.0.0.weight"))
        {
            any = true;
            var family = ModelFamily.Detect(f);
            var c = UnetConfig.Infer(f, unetPrefix, family.UnetHeads);
            sb.AppendLine($"{family.Name} UNet: {Params(f, unetPrefix):N0} parameters ({DTypeSummary(f, unetPrefix)})");
            sb.AppendLine($"  in/out channels {c.InChannels}/{c.OutChannels}, model channels {c.ModelChannels}, multipliers {string.Join(",", c.ChannelMult)}, res blocks per level {c.NumResBlocks}");
            sb.AppendLine($"  transformer depth per level {string.Join(",", c.LevelDepths)} (mid {c.MiddleDepth}); per input block {string.Join(",", c.InputDepths)}; per output block {string.Join(",", c.OutputDepths)}");
            sb.AppendLine($"  context width {c.ContextDim}, adm width {c.AdmInChannels}, time embedding {c.TimeEmbedDim}, {family.UnetHeads} ({family.Name})");
        }
        foreach (var spec in ModelFamily.Known.SelectMany(k => k.TextEncoders).DistinctBy(s => s.Prefix))
        {
            if (!f.Names.Any(n => n.StartsWith(spec.Prefix, StringComparison.Ordinal) && n.EndsWith("token_embedding.weight", StringComparison.Ordinal))) continue;
            any = true;
            var c = ClipConfig.Infer(f, spec.Prefix);
            string proj = c.ProjectionWidth > 0 ? $", projection {c.ProjectionWidth}" : "";
            sb.AppendLine($"{spec.Name} text encoder: {Params(f, spec.Prefix):N0} parameters, width {c.Width}, {c.Layers} layers, {c.Width / 64} heads of 64, vocab {c.VocabSize}{proj}");
        }
        if (f.Contains(vaePrefix + "decoder.conv_in.weight") || f.Contains(vaePrefix + "encoder.conv_in.weight"))
        {
            any = true;
            string latent = f.Contains(vaePrefix + "decoder.conv_in.weight") ? $", latent channels {f.Dims(vaePrefix + "decoder.conv_in.weight")[1]}" : "";
            sb.AppendLine($"VAE: {Params(f, vaePrefix):N0} parameters{latent}");
        }
        if (!any)
        {
            sb.AppendLine("not a checkpoint of a known family; tensors:");
            foreach (var t in f.Names.Take(40).Select(f.Info))
                sb.AppendLine($"  {t.Name} {DTypes.Name(t.DType)} {Shape.Format(t.Shape)}");
            if (f.Names.Count > 40) sb.AppendLine($"  ... {f.Names.Count - 40} more");
        }
        return sb.ToString();
    }

    private static void DescribePatch(SafeTensorsFile f, StringBuilder sb)
    {
        var lora = f.Names.Where(n => n.EndsWith("::lora::0", StringComparison.Ordinal)).ToList();
        var diff = f.Names.Where(n => n.EndsWith("::diff::0", StringComparison.Ordinal)).ToList();
        sb.AppendLine($"LayerDiffusion patch file: {lora.Count} LoRA targets, {diff.Count} diff targets");
        if (lora.Count > 0)
        {
            var ranks = lora.Select(n => f.Dims(n)[1]).Distinct().OrderBy(r => r);
            sb.AppendLine($"  LoRA ranks: {string.Join(",", ranks)}; e.g. {lora[0][..lora[0].IndexOf("::", StringComparison.Ordinal)]}");
        }
        if (diff.Count > 0)
            sb.AppendLine($"  diff targets e.g. {diff[0][..diff[0].IndexOf("::", StringComparison.Ordinal)]}");
        var conv = diff.FirstOrDefault(n => n.StartsWith("diffusion_model.input_blocks.0.0.weight", StringComparison.Ordinal) || n.Contains("input_blocks.0.0.weight::", StringComparison.Ordinal));
        if (conv is not null)
            sb.AppendLine($"  input conv diff {Shape.Format(f.Info(conv).Shape)}: {f.Dims(conv)[1]} input channels (layer model with concat conditioning)");
    }

    private static long Params(SafeTensorsFile f, string prefix) =>
        f.Tensors.Values.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal)).Sum(t => t.ElementCount);

    private static string DTypeSummary(SafeTensorsFile f, string prefix) =>
        string.Join(", ", f.Tensors.Values.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal))
            .GroupBy(t => t.DType).Select(g => $"{DTypes.Name(g.Key)} x{g.Count()}"));
}
