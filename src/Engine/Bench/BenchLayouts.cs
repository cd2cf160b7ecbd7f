using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Bench;

/// <summary>Key layouts the synthetic benchmark models need beyond Models/Synthetic: the released encoder's widths and the conv offsets.</summary>
public static class BenchLayouts
{
    /// <summary>The released encoder's conv widths (LatentTransparencyOffsetEncoder, layerdiffusion.md 5.1).</summary>
    public static int[] RealEncoderWidths { get; } = [32, 32, 64, 64, 128, 128, 256, 256];

    /// <summary>
    /// A "conv" layer model (layer_xl_transparent_conv): a diff on every UNet weight except the attention q, k, v
    /// projections and the time/label embeddings (layerdiffusion.md 2.1). Diffs are small (bias-like magnitudes).
    /// </summary>
    public static TensorLayout ConvOffsets(UnetConfig unet)
    {
        var net = new TensorLayout();
        SdxlLayout.Unet(net, unet, "");
        var l = new TensorLayout();
        foreach (var t in net.Tensors)
        {
            if (t.Name.StartsWith("time_embed.", StringComparison.Ordinal) || t.Name.StartsWith("label_emb.", StringComparison.Ordinal)) continue;
            if (t.Name.Contains(".to_q.", StringComparison.Ordinal) || t.Name.Contains(".to_k.", StringComparison.Ordinal)
                || t.Name.Contains(".to_v.", StringComparison.Ordinal)) continue;
            l.Add("diffusion_model." + t.Name + "::diff::0", ParamKind.Bias, t.Shape);
        }
        return l;
    }
}
