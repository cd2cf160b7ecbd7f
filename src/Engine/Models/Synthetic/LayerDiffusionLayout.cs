using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>Key layouts of the LayerDiffusion files, for synthetic (--demo, --synthetic) models.</summary>
public static class LayerDiffusionLayout
{
    /// <summary>The released decoder's widths (UNet1024).</summary>
    public static int[] RealDecoderWidths { get; } = [32, 32, 64, 128, 256, 512, 512];

    /// <summary>
    /// UNet1024 in the released diffusers layout: 7 down blocks of 2 ResNets (attention in the last 3), a mid block,
    /// 7 up blocks of 3 ResNets (attention in the first 3), the latent injected by a 1×1 conv at 1/8 scale.
    /// </summary>
    public static TensorLayout TransparentDecoder(int[] widths, int attentionLevels = 3, int layersPerBlock = 2)
    {
        var l = new TensorLayout();
        int n = widths.Length;
        l.Conv("conv_in", widths[0], 3, 3);
        l.Conv("latent_conv_in", widths[2], 4, 1);
        int prev = widths[0];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < layersPerBlock; j++)
            {
                Resnet(l, $"down_blocks.{i}.resnets.{j}", j == 0 ? prev : widths[i], widths[i]);
                if (i >= n - attentionLevels) Attention(l, $"down_blocks.{i}.attentions.{j}", widths[i]);
            }
            if (i != n - 1) l.Conv($"down_blocks.{i}.downsamplers.0.conv", widths[i], widths[i], 3);
            prev = widths[i];
        }
        Resnet(l, "mid_block.resnets.0", widths[^1], widths[^1]);
        Attention(l, "mid_block.attentions.0", widths[^1]);
        Resnet(l, "mid_block.resnets.1", widths[^1], widths[^1]);
        var rev = widths.Reverse().ToArray();
        prev = rev[0];
        for (int u = 0; u < n; u++)
        {
            int output = rev[u], input = rev[Math.Min(u + 1, n - 1)];
            for (int j = 0; j <= layersPerBlock; j++)
            {
                int skip = j == layersPerBlock ? input : output;
                Resnet(l, $"up_blocks.{u}.resnets.{j}", (j == 0 ? prev : output) + skip, output);
                if (u < attentionLevels) Attention(l, $"up_blocks.{u}.attentions.{j}", output);
            }
            if (u != n - 1) l.Conv($"up_blocks.{u}.upsamplers.0.conv", output, output, 3);
            prev = output;
        }
        l.Norm("conv_norm_out", widths[0]);
        l.Conv("conv_out", 4, widths[0], 3);
        return l;
    }

    private static void Resnet(TensorLayout l, string p, int i, int o)
    {
        l.Norm(p + ".norm1", i);
        l.Conv(p + ".conv1", o, i, 3);
        l.Norm(p + ".norm2", o);
        l.Conv(p + ".conv2", o, o, 3);
        if (i != o) l.Conv(p + ".conv_shortcut", o, i, 1);
    }

    private static void Attention(TensorLayout l, string p, int c)
    {
        l.Norm(p + ".group_norm", c);
        foreach (var x in new[] { "to_q", "to_k", "to_v", "to_out.0" }) l.Linear($"{p}.{x}", c, c);
    }

    /// <summary>An attention LoRA in the frozen-patcher format on every attn1/attn2 projection of a UNet layout.</summary>
    public static TensorLayout AttentionLora(UnetConfig unet, int rank)
    {
        var net = new TensorLayout();
        SdxlLayout.Unet(net, unet, "");
        var l = new TensorLayout();
        foreach (var t in net.Tensors)
        {
            if (!t.Name.Contains(".attn", StringComparison.Ordinal) || !t.Name.EndsWith(".weight", StringComparison.Ordinal)) continue;
            string key = "diffusion_model." + t.Name;
            l.Add(key + "::lora::0", ParamKind.Weight, t.Shape[0], rank);
            l.Add(key + "::lora::1", ParamKind.Weight, rank, t.Shape[1]);
        }
        return l;
    }
}
