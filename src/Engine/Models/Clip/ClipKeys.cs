using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>
/// CLIP text encoders are written against one key naming, Hugging Face's CLIPTextModel (text_model.*); an OpenCLIP
/// file (SDXL's bigG) is read through <see cref="OpenClip"/>, which names where each canonical tensor is stored there:
/// resblocks for layers, ln_1/ln_2/ln_final, c_fc/c_proj, and q, k, v as the three row blocks of in_proj.
/// </summary>
public static class ClipKeys
{
    public const string TokenEmbedding = "embeddings.token_embedding.weight";

    public static KeyLocation OpenClip(string canonical)
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
