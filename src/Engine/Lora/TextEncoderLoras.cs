using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;

namespace LayerDiffusion.Native.Lora;

/// <summary>A user LoRA file opened for the text encoders, with its text-encoder multiplier (the TE of &lt;lora:NAME:TE:UNET&gt;).</summary>
public sealed record TextLora(SafeTensorsFile File, float Weight);

/// <summary>
/// The text-encoder modules of kohya/A1111 LoRAs: `lora_te1_`/`lora_te2_` on SDXL's CLIP-L and OpenCLIP-G,
/// `lora_te_` on a single-encoder family's CLIP, each `&lt;prefix&gt;text_model_encoder_layers_N_&lt;projection&gt;` with the
/// Hugging Face projection names (self_attn_{q,k,v,out}_proj, mlp_fc1, mlp_fc2). They are merged as W + s·(alpha/rank)·up@down
/// into the encoder's canonical weights while it loads, so OpenCLIP's q, k and v get theirs after its fused in_proj
/// is split, as sd-scripts' own SDXL conversion does.
/// </summary>
public static class TextEncoderLoras
{
    private static readonly string[] Projections = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj", "mlp.fc1", "mlp.fc2"];

    /// <summary>The kohya prefix of encoder <paramref name="index"/> of a family with <paramref name="count"/> encoders.</summary>
    public static string KohyaPrefix(int index, int count) => count == 1 ? "lora_te_" : $"lora_te{index + 1}_";

    /// <summary>
    /// The file's modules under <paramref name="kohyaPrefix"/> as patch entries on the canonical weight names
    /// (encoder.layers.N.self_attn.q_proj.weight) of an encoder with <paramref name="layers"/> layers. Throws
    /// ModelFormatException naming the first key that has no up matrix or names no projection of the encoder.
    /// </summary>
    public static PatchFile Patch(SafeTensorsFile file, string kohyaPrefix, int layers, string encoderName)
    {
        var modules = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < layers; i++)
            foreach (var p in Projections)
                modules[kohyaPrefix + "text_model_" + $"encoder.layers.{i}.{p}".Replace('.', '_')] = $"encoder.layers.{i}.{p}.weight";
        var entries = new List<PatchEntry>();
        foreach (var key in file.Names)
        {
            if (!key.StartsWith(kohyaPrefix, StringComparison.Ordinal) || !key.EndsWith(KohyaLora.DownSuffix, StringComparison.Ordinal)) continue;
            string module = key[..^KohyaLora.DownSuffix.Length];
            string up = module + KohyaLora.UpSuffix;
            if (!file.Contains(up)) throw new ModelFormatException(file.Path, key, $"has no '{up}'");
            if (!modules.TryGetValue(module, out var target))
                throw new ModelFormatException(file.Path, key, $"names no projection of this checkpoint's {encoderName} ({layers} layers; expected kohya names such as '{kohyaPrefix}text_model_encoder_layers_0_self_attn_q_proj')");
            string? alpha = file.Contains(module + KohyaLora.AlphaSuffix) ? module + KohyaLora.AlphaSuffix : null;
            entries.Add(new PatchEntry(target, PatchKind.Lora, [up, key, alpha]));
        }
        return new PatchFile(file, entries, encoderName + " ");
    }

    /// <summary>
    /// Refuses a text-encoder module for another family's encoders (an SD1.5 `lora_te_` module on SDXL, `lora_te1_` on
    /// SD1.5), which no encoder would otherwise pick up: ModelFormatException naming the first such key.
    /// </summary>
    public static void CheckPrefixes(IReadOnlyList<TextLora> loras, int encoders)
    {
        var prefixes = Enumerable.Range(0, encoders).Select(i => KohyaPrefix(i, encoders)).ToArray();
        foreach (var lora in loras)
            foreach (var key in lora.File.Names)
                if (key.StartsWith("lora_te", StringComparison.Ordinal) && key.EndsWith(KohyaLora.DownSuffix, StringComparison.Ordinal) &&
                    !prefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal)))
                    throw new ModelFormatException(lora.File.Path, key, $"is a text-encoder module of another model family: this checkpoint's {encoders} text encoder(s) take {string.Join(" and ", prefixes)} modules");
    }

    /// <summary>
    /// The merge step for one encoder's <see cref="Models.Layers.WeightStore"/>: each weight a LoRA targets is replaced
    /// by the merge of every LoRA in order (a multiplier of 0 merges nothing); null when no LoRA targets this encoder.
    /// Every file's names are checked here, before any weight loads, whatever its multiplier.
    /// </summary>
    public static Func<string, Tensor, Tensor>? Merger(IBackend backend, IReadOnlyList<TextLora> loras, string kohyaPrefix, int layers, string encoderName)
    {
        var byTarget = new Dictionary<string, List<(PatchFile Patch, PatchEntry Entry, float Weight)>>(StringComparer.Ordinal);
        foreach (var lora in loras)
        {
            var patch = Patch(lora.File, kohyaPrefix, layers, encoderName);
            if (lora.Weight == 0) continue;
            foreach (var e in patch.Entries)
            {
                if (!byTarget.TryGetValue(e.Target, out var list)) byTarget[e.Target] = list = new();
                list.Add((patch, e, lora.Weight));
            }
        }
        if (byTarget.Count == 0) return null;
        return (name, weight) =>
        {
            if (!byTarget.TryGetValue(name, out var list)) return weight;
            foreach (var (patch, entry, s) in list)
            {
                var merged = PatchMerger.MergeEntry(backend, patch, entry, weight, s);
                weight.Dispose();
                weight = merged;
            }
            return weight;
        };
    }
}
