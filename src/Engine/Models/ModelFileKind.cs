using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Pipelines;

namespace LayerDiffusion.Native.Models;

/// <summary>What a .safetensors file is, from its keys and shapes alone (no tensor data is read).</summary>
public enum ModelFileKind
{
    Unknown,
    SdxlCheckpoint,
    Sd15Checkpoint,
    /// <summary>layer_xl_transparent_attn: a frozen-patcher LoRA on the attention projections.</summary>
    LayerAttnLora,
    /// <summary>layer_xl_transparent_conv: diff offsets, the input conv keeps its 4 channels.</summary>
    LayerConvDiff,
    /// <summary>layer_xl_fg2ble or layer_xl_bg2ble (same layout: input conv widened to 8 channels).</summary>
    LayerOneConditionDiff,
    /// <summary>
    /// layer_xl_fgble2bg or layer_xl_bgble2fg: input conv widened to 12. The released bgble2fg also offsets the
    /// transformer layers and fgble2bg does not, but a retrained or test file need not keep to that, so the layout is
    /// reported and not enforced.
    /// </summary>
    LayerTwoConditionDiff,
    TransparentDecoder,
    TransparentEncoder,
    /// <summary>The SD1.5 layer models (attention sharing: layer_sd15_*).</summary>
    Sd15LayerModel,
    /// <summary>A user LoRA in kohya/A1111 layout (lora_unet_*, lora_te*_* with lora_down/lora_up/alpha).</summary>
    KohyaLora,
    /// <summary>A user LoRA in diffusers/PEFT layout (…lora_A/lora_B or …lora.down/lora.up).</summary>
    DiffusersLora,
}

/// <summary>A file's kind and a one-line description of it.</summary>
/// <param name="Frames">An SD1.5 attention-sharing model's frame count (0 for other kinds).</param>
/// <param name="Control">Whether an SD1.5 attention-sharing model conditions on a control image.</param>
public sealed record ModelFileClass(ModelFileKind Kind, string Description, int Frames = 0, bool Control = false);

public static class ModelFileKinds
{
    public static ModelFileClass Classify(SafeTensorsFile f)
    {
        var names = f.Names;
        if (names.Any(n => n.Contains("::lora::", StringComparison.Ordinal) || n.Contains("::diff::", StringComparison.Ordinal)))
            return ClassifyPatch(f);
        if (names.Any(n => n.StartsWith("hookers.layers.", StringComparison.Ordinal)))
        {
            bool control = names.Any(n => n.Contains(".control_convs.", StringComparison.Ordinal));
            int frames = names.Count(n => n.StartsWith("hookers.layers.0.to_k_lora.", StringComparison.Ordinal) && n.EndsWith(".down.weight", StringComparison.Ordinal));
            string which = control ? "layer_sd15_fg2bg or layer_sd15_bg2fg" : frames >= 3 ? "layer_sd15_joint" : "layer_sd15_transparent_attn";
            return new(ModelFileKind.Sd15LayerModel, $"SD1.5 LayerDiffusion attention-sharing model ({which}), {frames} frames{(control ? " and a control image" : "")}", frames, control);
        }
        if (f.Contains("latent_conv_in.weight"))
            return new(ModelFileKind.TransparentDecoder, $"LayerDiffusion transparent VAE decoder ({LayerMethods.DecoderFileName}: latent + image -> RGBA)");
        if (f.Contains("blocks.0.weight") && names.All(n => n.StartsWith("blocks.", StringComparison.Ordinal)))
            return new(ModelFileKind.TransparentEncoder, $"LayerDiffusion transparent VAE encoder ({LayerMethods.EncoderFileName}: RGBA -> latent offset)");
        if (names.Any(n => n.StartsWith("lora_unet_", StringComparison.Ordinal) || n.StartsWith("lora_te", StringComparison.Ordinal)))
            return new(ModelFileKind.KohyaLora, KohyaDescription(f));
        if (names.Any(n => n.Contains(".lora_A.", StringComparison.Ordinal) || n.Contains(".lora.down.", StringComparison.Ordinal) || n.Contains(".lora_down.", StringComparison.Ordinal)))
            return new(ModelFileKind.DiffusersLora, "user LoRA in diffusers/PEFT layout");
        if (ModelFamily.Sdxl.Matches(f))
            return new(ModelFileKind.SdxlCheckpoint, "SDXL checkpoint");
        if (ModelFamily.Sd15.Matches(f))
            return new(ModelFileKind.Sd15Checkpoint, "SD1.5 checkpoint");
        return new(ModelFileKind.Unknown, "not a file kind this engine knows");
    }

    private static ModelFileClass ClassifyPatch(SafeTensorsFile f)
    {
        if (f.Names.Any(n => n.Contains("::lora::", StringComparison.Ordinal)))
            return new(ModelFileKind.LayerAttnLora, $"LayerDiffusion attention LoRA ({LayerMethods.PatchFileName(LayerMethod.Attn)}, method attn)");
        string conv = PatchFile.ModelPrefix + PatchFile.InputConvKey + "::diff::0";
        int channels = f.Contains(conv) && f.Info(conv).Shape is [_, int c, _, _] ? c : 4;
        bool attention = f.Names.Any(n => n.Contains(".transformer_blocks.", StringComparison.Ordinal));
        return channels switch
        {
            8 => new(ModelFileKind.LayerOneConditionDiff, "LayerDiffusion one-condition layer model (layer_xl_fg2ble or layer_xl_bg2ble, which share a layout: layer mode fg2ble or bg2ble)"),
            12 => new(ModelFileKind.LayerTwoConditionDiff, "LayerDiffusion two-condition layer model (layer_xl_fgble2bg or layer_xl_bgble2fg: layer mode fgble2bg or bgble2fg; " +
                (attention ? "offsets the transformer layers too, as the released bgble2fg does)" : "no transformer offsets, as the released fgble2bg)")),
            4 => new(ModelFileKind.LayerConvDiff, $"LayerDiffusion conv offsets ({LayerMethods.PatchFileName(LayerMethod.Conv)}, method conv)"),
            _ => new(ModelFileKind.Unknown, $"LayerDiffusion diff patch with a {channels}-channel input conv, which no released file has"),
        };
    }

    private static string KohyaDescription(SafeTensorsFile f)
    {
        int Count(string prefix) => f.Names.Count(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".lora_down.weight", StringComparison.Ordinal));
        var ranks = f.Names.Where(n => n.EndsWith(".lora_down.weight", StringComparison.Ordinal)).Select(n => f.Info(n).Shape[0]).Distinct().Order();
        return $"user LoRA (kohya/A1111): {Count("lora_unet_")} UNet, {Count("lora_te1_") + Count("lora_te_")} CLIP-L and {Count("lora_te2_")} OpenCLIP-G modules, rank {string.Join(",", ranks)}";
    }

    /// <summary>
    /// Why a patch file does not fit a method (null when it does). fg2ble/bg2ble, and fgble2bg/bgble2fg, share a
    /// layout; there the released file name of the other method is what gives a wrong file away.
    /// </summary>
    public static string? MismatchFor(LayerMethod method, string path, ModelFileClass kind)
    {
        // The SD1.5 files' frame counts are checked by their loader, which names what the method needs.
        if (LayerMethods.IsSd15(method))
            return kind.Kind == ModelFileKind.Sd15LayerModel ? null
                : $"{path}: is {kind.Description}, not an SD1.5 attention-sharing model for method {LayerMethods.Name(method)} ({LayerMethods.PatchFileName(method)})";
        bool fits = (method, kind.Kind) switch
        {
            (LayerMethod.Attn, ModelFileKind.LayerAttnLora) => true,
            (LayerMethod.Conv, ModelFileKind.LayerConvDiff) => true,
            (LayerMethod.Fg2Ble or LayerMethod.Bg2Ble, ModelFileKind.LayerOneConditionDiff) => true,
            (LayerMethod.FgBle2Bg or LayerMethod.BgBle2Fg, ModelFileKind.LayerTwoConditionDiff) => true,
            _ => false,
        };
        string name = Path.GetFileName(path);
        var named = Enum.GetValues<LayerMethod>().FirstOrDefault(m => string.Equals(LayerMethods.PatchFileName(m), name, StringComparison.OrdinalIgnoreCase), method);
        if (fits && named == method) return null;
        string what = fits ? $"the released file of method {LayerMethods.Name(named)}" : kind.Description;
        return $"{path}: is {what}, not the patch for method {LayerMethods.Name(method)} ({LayerMethods.PatchFileName(method)})";
    }
}
