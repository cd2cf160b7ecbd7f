using System.Text;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models;

/// <summary>Describes a safetensors file for `ld info`: SDXL checkpoint parts, LayerDiffusion patch files, or a plain summary.</summary>
public static class CheckpointInspector
{
    public const string UnetPrefix = "model.diffusion_model.";
    public const string VaePrefix = "first_stage_model.";
    public const string ClipLPrefix = "conditioner.embedders.0.transformer.text_model.";
    public const string ClipGPrefix = "conditioner.embedders.1.model.";
    public const string Sd15ClipPrefix = "cond_stage_model.transformer.text_model.";

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
        if (f.Contains(UnetPrefix + "input_blocks.0.0.weight"))
        {
            any = true;
            var family = ModelFamily.Detect(f);
            var c = UnetConfig.Infer(f, UnetPrefix, family.UnetHeads);
            sb.AppendLine($"{family.Name} UNet: {Params(f, UnetPrefix):N0} parameters ({DTypeSummary(f, UnetPrefix)})");
            sb.AppendLine($"  in/out channels {c.InChannels}/{c.OutChannels}, model channels {c.ModelChannels}, multipliers {string.Join(",", c.ChannelMult)}, res blocks per level {c.NumResBlocks}");
            sb.AppendLine($"  transformer depth per level {string.Join(",", c.LevelDepths)} (mid {c.MiddleDepth}); per input block {string.Join(",", c.InputDepths)}; per output block {string.Join(",", c.OutputDepths)}");
            sb.AppendLine($"  context width {c.ContextDim}, adm width {c.AdmInChannels}, time embedding {c.TimeEmbedDim}, {family.UnetHeads} ({family.Name})");
        }
        foreach (var clipL in new[] { ClipLPrefix, Sd15ClipPrefix })
        {
            if (!f.Contains(clipL + "embeddings.token_embedding.weight")) continue;
            any = true;
            var emb = f.Dims(clipL + "embeddings.token_embedding.weight");
            int layers = CountIndexed(f, clipL + "encoder.layers.", ".layer_norm1.weight");
            sb.AppendLine($"CLIP-L text encoder: {Params(f, clipL):N0} parameters, width {emb[1]}, {layers} layers, {emb[1] / 64} heads of 64, vocab {emb[0]}");
        }
        if (f.Contains(ClipGPrefix + "token_embedding.weight"))
        {
            any = true;
            var emb = f.Dims(ClipGPrefix + "token_embedding.weight");
            int layers = CountIndexed(f, ClipGPrefix + "transformer.resblocks.", ".ln_1.weight");
            string proj = f.Contains(ClipGPrefix + "text_projection") ? $", projection {f.Dims(ClipGPrefix + "text_projection")[1]}" : "";
            sb.AppendLine($"OpenCLIP-G text encoder: {Params(f, ClipGPrefix):N0} parameters, width {emb[1]}, {layers} layers, {emb[1] / 64} heads of 64{proj}");
        }
        if (f.Contains(VaePrefix + "decoder.conv_in.weight") || f.Contains(VaePrefix + "encoder.conv_in.weight"))
        {
            any = true;
            string latent = f.Contains(VaePrefix + "decoder.conv_in.weight") ? $", latent channels {f.Dims(VaePrefix + "decoder.conv_in.weight")[1]}" : "";
            sb.AppendLine($"VAE: {Params(f, VaePrefix):N0} parameters{latent}");
        }
        if (!any)
        {
            sb.AppendLine("not a checkpoint of a known family; tensors:");
            foreach (var n in f.Names.Take(40))
            {
                var i = f.Info(n);
                sb.AppendLine($"  {n} {DTypes.Name(i.DType)} {Shape.Format(i.Shape)}");
            }
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

    private static int CountIndexed(SafeTensorsFile f, string prefix, string suffix)
    {
        int k = 0;
        while (f.Contains($"{prefix}{k}{suffix}")) k++;
        return k;
    }

    private static long Params(SafeTensorsFile f, string prefix) =>
        f.Tensors.Values.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal)).Sum(t => t.ElementCount);

    private static string DTypeSummary(SafeTensorsFile f, string prefix) =>
        string.Join(", ", f.Tensors.Values.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal))
            .GroupBy(t => t.DType).Select(g => $"{DTypes.Name(g.Key)} x{g.Count()}"));
}
