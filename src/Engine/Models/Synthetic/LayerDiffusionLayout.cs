using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>Key layouts of the LayerDiffusion files, for synthetic (--demo, --synthetic) models.</summary>
public static class LayerDiffusionLayout
{
    /// <summary>The released decoder's widths (UNet1024).</summary>
    public static int[] RealDecoderWidths { get; } = [32, 32, 64, 128, 256, 512, 512];

    /// <summary>
    /// UNet1024 in the released diffusers layout, recorded from the decoder's constructor: 7 down blocks of 2 ResNets
    /// (attention in the last 3), a mid block, 7 up blocks of 3 ResNets (attention in the first 3), the latent injected
    /// by a 1×1 conv at 1/8 scale.
    /// </summary>
    public static TensorLayout TransparentDecoder(int[] widths, int attentionLevels = 3, int layersPerBlock = 2)
    {
        int n = widths.Length;
        var down = Enumerable.Range(0, n).Select(i => new TransparentDecoderBlock(widths[i], layersPerBlock, i >= n - attentionLevels, i != n - 1)).ToArray();
        var up = Enumerable.Range(0, n).Select(u => new TransparentDecoderBlock(widths[n - 1 - u], layersPerBlock + 1, u < attentionLevels, u != n - 1)).ToArray();
        var l = new TensorLayout();
        _ = new LayerDiffusion.TransparentDecoder(new TransparentDecoderConfig(3, 4, 4, widths[0], down, up), new LayoutRecorder(l));
        return l;
    }

    /// <summary>
    /// The transparent encoder (LatentTransparencyOffsetEncoder), recorded from its constructor: nn.Sequential convs at
    /// even indices blocks.0, 2, ...; stage pairs of <paramref name="widths"/>, then a conv to the latent.
    /// </summary>
    public static TensorLayout TransparentEncoder(int[] widths, int inChannels = 4, int latentChannels = 4)
    {
        var l = new TensorLayout();
        _ = new LayerDiffusion.TransparentEncoder(new LayoutRecorder(l), [inChannels, .. widths, latentChannels]);
        return l;
    }

    /// <summary>
    /// A diff layer model in the frozen-patcher format over a UNet layout, shaped like the released ones: with
    /// <paramref name="conditions"/> condition latents the input conv is widened by 4 channels each and the transformer
    /// layers are left out (fg2ble, bg2ble, fgble2bg); with none it is the conv model (every weight except the
    /// attention q/k/v projections and the embeddings).
    /// </summary>
    public static TensorLayout LayerDiff(UnetConfig unet, int conditions)
    {
        var l = new TensorLayout();
        foreach (var t in UnetTensors(unet))
        {
            if (t.Name.StartsWith("time_embed.", StringComparison.Ordinal) || t.Name.StartsWith("label_emb.", StringComparison.Ordinal)) continue;
            string[] skipped = conditions > 0 ? [".transformer_blocks.", ".proj_in.", ".proj_out.", ".norm."] : [".to_q.", ".to_k.", ".to_v."];
            if (skipped.Any(part => t.Name.Contains(part, StringComparison.Ordinal))) continue;
            int[] shape = t.Name == PatchFile.InputConvKey ? [t.Shape[0], t.Shape[1] + 4 * conditions, .. t.Shape[2..]] : t.Shape;
            l.Add("diffusion_model." + t.Name + "::diff::0", t.Kind, shape);
        }
        return l;
    }

    /// <summary>The UNet's tensors under their names without the checkpoint prefix (the names a patch targets).</summary>
    private static List<TensorSpec> UnetTensors(UnetConfig unet)
    {
        var net = new TensorLayout();
        SdxlLayout.Unet(net, unet, "");
        return net.Tensors;
    }

    /// <summary>An attention LoRA in the frozen-patcher format on every attn1/attn2 projection of a UNet layout.</summary>
    public static TensorLayout AttentionLora(UnetConfig unet, int rank)
    {
        var l = new TensorLayout();
        foreach (var t in UnetTensors(unet))
        {
            if (!t.Name.Contains(".attn", StringComparison.Ordinal) || !t.Name.EndsWith(".weight", StringComparison.Ordinal)) continue;
            string key = "diffusion_model." + t.Name;
            l.Add(key + "::lora::0", ParamKind.Weight, t.Shape[0], rank);
            l.Add(key + "::lora::1", ParamKind.Weight, rank, t.Shape[1]);
        }
        return l;
    }
}
