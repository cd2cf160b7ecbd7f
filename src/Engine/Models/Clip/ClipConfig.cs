using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>
/// A CLIP text transformer's sizes, read from tensor shapes: width, depth, MLP width, vocabulary, positions, the
/// pooled projection's width (OpenCLIP) and the key layout, which also fixes the activation.
/// </summary>
/// <param name="OpenClip">The key layout SDXL checkpoints store their text encoders in: OpenCLIP (bigG: fused in_proj
/// [q; k; v], exact GELU, text_projection applied as x @ P), or else Hugging Face CLIPTextModel (CLIP-L: separate
/// q/k/v projections, QuickGELU).</param>
public sealed record ClipConfig(bool OpenClip, int Width, int Layers, int MlpWidth, int VocabSize, int Positions, int ProjectionWidth)
{
    public const string TokenEmbedding = "embeddings.token_embedding.weight";

    public FeedForwardKind Activation => OpenClip ? FeedForwardKind.Gelu : FeedForwardKind.QuickGelu;

    /// <summary>The key map that reads this layout with the canonical (Hugging Face) names.</summary>
    public KeyMap? Keys => OpenClip ? OpenClipKey : null;

    public static ClipConfig Infer(SafeTensorsFile file, string prefix)
    {
        bool openClip = !file.Contains(prefix + TokenEmbedding);
        var vs = WeightStore.Open(Backends.Cpu.CpuBackend.Instance, file, prefix, openClip ? OpenClipKey : null);
        var tokens = vs.Dims(TokenEmbedding).OfRank(2);
        int layers = vs.CountOf(i => $"encoder.layers.{i}.layer_norm1.weight");
        if (layers == 0) throw vs.Error("encoder.layers.0.layer_norm1.weight", "missing: the text encoder has no layers");
        int projection = openClip && vs.Has("text_projection") ? vs.Dims("text_projection").OfRank(2)[1] : 0;
        return new ClipConfig(openClip, tokens[1], layers, vs.Dims("encoder.layers.0.mlp.fc1.weight").OfRank(2)[0], tokens[0],
            vs.Dims("embeddings.position_embedding.weight").OfRank(2)[0], projection);
    }

    /// <summary>
    /// CLIP text encoders are written against one key naming, Hugging Face's CLIPTextModel (text_model.*); an OpenCLIP
    /// file (SDXL's bigG) is read through this map, which names where each canonical tensor is stored there: resblocks
    /// for layers, ln_1/ln_2/ln_final, c_fc/c_proj, and q, k, v as the three row blocks of in_proj.
    /// </summary>
    private static KeyLocation OpenClipKey(string canonical)
    {
        const string Layers = "encoder.layers.";
        if (canonical == TokenEmbedding) return new("token_embedding.weight");
        if (canonical == "embeddings.position_embedding.weight") return new("positional_embedding");
        if (canonical.StartsWith("final_layer_norm.", StringComparison.Ordinal)) return new("ln_final." + canonical["final_layer_norm.".Length..]);
        if (!canonical.StartsWith(Layers, StringComparison.Ordinal)) return new(canonical); // text_projection, logit_scale
        int dot = canonical.IndexOf('.', Layers.Length);
        string layer = "transformer.resblocks." + canonical[Layers.Length..dot] + ".", rest = canonical[(dot + 1)..];
        foreach (var (q, part) in new[] { ("self_attn.q_proj.", 0), ("self_attn.k_proj.", 1), ("self_attn.v_proj.", 2) })
            if (rest.StartsWith(q, StringComparison.Ordinal))
                return new(layer + "attn.in_proj_" + rest[q.Length..], part, 3);
        return new(layer + rest
            .Replace("layer_norm1.", "ln_1.", StringComparison.Ordinal)
            .Replace("layer_norm2.", "ln_2.", StringComparison.Ordinal)
            .Replace("self_attn.out_proj.", "attn.out_proj.", StringComparison.Ordinal)
            .Replace("mlp.fc1.", "mlp.c_fc.", StringComparison.Ordinal)
            .Replace("mlp.fc2.", "mlp.c_proj.", StringComparison.Ordinal));
    }
}
