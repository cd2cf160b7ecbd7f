using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>
/// A CLIP text transformer's sizes, read from tensor shapes: width, depth, MLP width, vocabulary, positions, the
/// pooled projection's width (OpenCLIP) and the key layout, which also fixes the activation (CLIP-L's QuickGELU,
/// OpenCLIP's exact GELU).
/// </summary>
public sealed record ClipConfig(ClipLayout Layout, int Width, int Layers, int MlpWidth, int VocabSize, int Positions, int ProjectionWidth)
{
    public FeedForwardKind Activation => Layout == ClipLayout.HuggingFace ? FeedForwardKind.QuickGelu : FeedForwardKind.Gelu;

    /// <summary>The key map that reads this layout with the canonical (Hugging Face) names.</summary>
    public KeyMap? Keys => Layout == ClipLayout.OpenClip ? ClipKeys.OpenClip : null;

    public static ClipConfig Infer(SafeTensorsFile file, string prefix)
    {
        var layout = file.Contains(prefix + ClipKeys.TokenEmbedding) ? ClipLayout.HuggingFace : ClipLayout.OpenClip;
        var vs = WeightStore.Open(Backends.Cpu.CpuBackend.Instance, file, prefix, layout == ClipLayout.OpenClip ? ClipKeys.OpenClip : null);
        var tokens = vs.Dims(ClipKeys.TokenEmbedding).OfRank(2);
        int layers = vs.CountOf(i => $"encoder.layers.{i}.layer_norm1.weight");
        if (layers == 0) throw vs.Error("encoder.layers.0.layer_norm1.weight", "missing: the text encoder has no layers");
        int projection = layout == ClipLayout.OpenClip && vs.Has("text_projection") ? vs.Dims("text_projection").OfRank(2)[1] : 0;
        return new ClipConfig(layout, tokens[1], layers, vs.Dims("encoder.layers.0.mlp.fc1.weight").OfRank(2)[0], tokens[0],
            vs.Dims("embeddings.position_embedding.weight").OfRank(2)[0], projection);
    }
}
