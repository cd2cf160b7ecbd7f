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
        var vs = new FileWeights(Backends.Cpu.CpuBackend.Instance, file, prefix, layout == ClipLayout.OpenClip ? ClipKeys.OpenClip : null);
        int[] Shape(string name, int rank) => vs.ShapeOf(name) is { } s && s.Length == rank ? s
            : throw vs.Error(name, vs.ShapeOf(name) is null ? "missing" : $"has shape {Tensors.Shape.Format(vs.ShapeOf(name)!)}, expected {rank} dimensions");
        var tokens = Shape(ClipKeys.TokenEmbedding, 2);
        int layers = 0;
        while (vs.Has($"encoder.layers.{layers}.layer_norm1.weight")) layers++;
        if (layers == 0) throw vs.Error("encoder.layers.0.layer_norm1.weight", "missing: the text encoder has no layers");
        int projection = layout == ClipLayout.OpenClip && vs.Has("text_projection") ? Shape("text_projection", 2)[1] : 0;
        return new ClipConfig(layout, tokens[1], layers, Shape("encoder.layers.0.mlp.fc1.weight", 2)[0], tokens[0],
            Shape("embeddings.position_embedding.weight", 2)[0], projection);
    }
}
