using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;

namespace LayerDiffusion.Native.Lora;

/// <summary>A user LoRA of a run: its file, the name written in "Lora hashes", the UNet and the text-encoder multipliers.</summary>
public sealed record UserLora(string Path, string Name, float Weight, float TextWeight);

/// <summary>
/// A kohya/A1111 LoRA file: per module `lora_unet_&lt;name&gt;.lora_down.weight` [r, in(, kh, kw)],
/// `.lora_up.weight` [out, r(, 1, 1)] and an optional scalar `.alpha`, where &lt;name&gt; is the ldm/sgm UNet module
/// name (sd-scripts' SDXL layout) or the diffusers one (its SD1.5 layout, <see cref="DiffusersUnetNames"/>) with '.'
/// written as '_' (LoCon convolution modules included); `lora_te1_`/`lora_te2_` modules patch the two
/// text encoders (see <see cref="TextEncoderLoras"/>). Mapped onto the UNet's weights it is a <see cref="PatchFile"/> of LoRA entries, which
/// <see cref="PatchMerger"/> merges as W + s·(alpha/rank)·up@down: the formula A1111's network_lora uses.
/// </summary>
public static class KohyaLora
{
    public const string UnetPrefix = "lora_unet_", DownSuffix = ".lora_down.weight", UpSuffix = ".lora_up.weight", AlphaSuffix = ".alpha";

    /// <summary>
    /// The file's UNet modules as patch entries on <paramref name="unetNames"/> (UNet weight names without the
    /// checkpoint prefix). Throws ModelFormatException naming the first key that has no up matrix or names no UNet
    /// module, or that uses a layout this merge does not do (LoHa/LoKr, Tucker mid, DoRA).
    /// </summary>
    public static PatchFile UnetPatch(SafeTensorsFile file, IEnumerable<string> unetNames)
    {
        var modules = new Dictionary<string, string>(StringComparer.Ordinal);
        var ldmModules = unetNames.Where(n => n.EndsWith(".weight", StringComparison.Ordinal)).Select(n => n[..^".weight".Length]).ToList();
        foreach (var module in ldmModules) modules[KohyaName(module)] = module + ".weight";
        // kohya's SD1.5 LoRAs name the diffusers modules (lora_unet_down_blocks_0_attentions_0_...): both spellings map.
        foreach (var (module, diffusers) in DiffusersUnetNames.Of(ldmModules)) modules.TryAdd(KohyaName(diffusers), module + ".weight");
        var entries = new List<PatchEntry>();
        foreach (var key in file.Names)
        {
            if (key.Contains(".hada_", StringComparison.Ordinal) || key.Contains(".lokr_", StringComparison.Ordinal) ||
                key.EndsWith(".lora_mid.weight", StringComparison.Ordinal) || key.EndsWith(".dora_scale", StringComparison.Ordinal))
                throw new ModelFormatException(file.Path, key, "is a LyCORIS/DoRA layout (LoHa, LoKr, Tucker or DoRA) this engine does not merge; only plain LoRA/LoCon (lora_down, lora_up, alpha) is supported");
            if (!key.StartsWith(UnetPrefix, StringComparison.Ordinal) || !key.EndsWith(DownSuffix, StringComparison.Ordinal)) continue;
            string module = key[..^DownSuffix.Length];
            string up = module + UpSuffix;
            if (!file.Contains(up)) throw new ModelFormatException(file.Path, key, $"has no '{up}'");
            if (!modules.TryGetValue(module, out var target))
                throw new ModelFormatException(file.Path, key, $"names no UNet module of this checkpoint (expected kohya ldm or diffusers names such as " +
                    $"'{modules.Keys.FirstOrDefault(k => k.Contains("attn1_to_q", StringComparison.Ordinal)) ?? modules.Keys.First()}')");
            string? alpha = file.Contains(module + AlphaSuffix) ? module + AlphaSuffix : null;
            entries.Add(new PatchEntry(target, PatchKind.Lora, [up, key, alpha]));
        }
        return new PatchFile(file, entries);
    }

    /// <summary>A module path as kohya names it: "input_blocks.1.0.in_layers.2" → "lora_unet_input_blocks_1_0_in_layers_2".</summary>
    private static string KohyaName(string module) => UnetPrefix + module.Replace('.', '_');
}
