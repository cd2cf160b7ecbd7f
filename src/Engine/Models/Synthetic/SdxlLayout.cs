using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>Text encoder and VAE sizes for a synthetic SDXL checkpoint.</summary>
public sealed record SdxlSizes(int ClipLWidth, int ClipLLayers, int ClipGWidth, int ClipGLayers, int ClipGProjection,
    int[] VaeChannels, int VaeResBlocks, int Vocab = 49408, int Positions = 77, int LatentChannels = 4)
{
    /// <summary>SDXL 1.0 base.</summary>
    public static SdxlSizes Real { get; } = new(768, 12, 1280, 32, 1280, [128, 256, 512, 512], 2);
}

/// <summary>
/// Every key and shape of a single-file SDXL checkpoint in the ldm/sgm layout, generated from a configuration.
/// The inverse of UnetConfig.Infer: a test checks that the tiny golden checkpoint's own config regenerates exactly
/// its key set, so synthetic models (the --demo model, --synthetic benchmarks) load through the real loaders.
/// </summary>
public static class SdxlLayout
{
    public static TensorLayout Checkpoint(UnetConfig unet, SdxlSizes sizes)
    {
        var l = new TensorLayout();
        Unet(l, unet, CheckpointInspector.UnetPrefix);
        ClipL(l, sizes, CheckpointInspector.ClipLPrefix);
        OpenClipG(l, sizes, CheckpointInspector.ClipGPrefix);
        Vae(l, sizes, CheckpointInspector.VaePrefix);
        return l;
    }

    /// <summary>SDXL 1.0 base's UNet configuration.</summary>
    public static UnetConfig RealUnet { get; } = new(4, 4, 320, [1, 2, 4], 2, [0, 0, 2, 2, 10, 10], [10, 10, 10, 2, 2, 2, 0, 0, 0], 10, 2048, 2816, 1280, ModelFamily.Sdxl.UnetHeads);

    public static void Unet(TensorLayout l, UnetConfig c, string p)
    {
        int t = c.TimeEmbedDim, mc = c.ModelChannels;
        l.Linear(p + "time_embed.0", t, mc);
        l.Linear(p + "time_embed.2", t, t);
        if (c.AdmInChannels > 0)
        {
            l.Linear(p + "label_emb.0.0", t, c.AdmInChannels);
            l.Linear(p + "label_emb.0.2", t, t);
        }
        l.Conv(p + "input_blocks.0.0", mc, c.InChannels, 3);
        var skips = new Stack<int>();
        skips.Push(mc);
        int ch = mc, n = 1;
        for (int level = 0; level < c.ChannelMult.Length; level++)
        {
            for (int r = 0; r < c.NumResBlocks; r++, n++)
            {
                int o = c.ChannelMult[level] * mc;
                ResBlock(l, $"{p}input_blocks.{n}.0", ch, o, t);
                int depth = c.InputDepths[level * c.NumResBlocks + r];
                if (depth > 0) Transformer(l, $"{p}input_blocks.{n}.1", o, depth, c.ContextDim);
                ch = o;
                skips.Push(ch);
            }
            if (level != c.ChannelMult.Length - 1)
            {
                l.Conv($"{p}input_blocks.{n}.0.op", ch, ch, 3);
                skips.Push(ch);
                n++;
            }
        }
        ResBlock(l, p + "middle_block.0", ch, ch, t);
        Transformer(l, p + "middle_block.1", ch, c.MiddleDepth, c.ContextDim);
        ResBlock(l, p + "middle_block.2", ch, ch, t);
        n = 0;
        for (int level = c.ChannelMult.Length - 1; level >= 0; level--)
        {
            for (int i = 0; i <= c.NumResBlocks; i++, n++)
            {
                int o = c.ChannelMult[level] * mc;
                ResBlock(l, $"{p}output_blocks.{n}.0", ch + skips.Pop(), o, t);
                ch = o;
                int depth = c.OutputDepths[n];
                if (depth > 0) Transformer(l, $"{p}output_blocks.{n}.1", o, depth, c.ContextDim);
                if (level > 0 && i == c.NumResBlocks) l.Conv($"{p}output_blocks.{n}.{(depth > 0 ? 2 : 1)}.conv", ch, ch, 3);
            }
        }
        l.Norm(p + "out.0", ch);
        l.Conv(p + "out.2", c.OutChannels, ch, 3);
    }

    private static void ResBlock(TensorLayout l, string p, int i, int o, int temb)
    {
        l.Norm(p + ".in_layers.0", i);
        l.Conv(p + ".in_layers.2", o, i, 3);
        l.Linear(p + ".emb_layers.1", o, temb);
        l.Norm(p + ".out_layers.0", o);
        l.Conv(p + ".out_layers.3", o, o, 3);
        if (i != o) l.Conv(p + ".skip_connection", o, i, 1);
    }

    private static void Transformer(TensorLayout l, string p, int c, int depth, int ctx)
    {
        l.Norm(p + ".norm", c);
        l.Linear(p + ".proj_in", c, c);
        for (int k = 0; k < depth; k++)
        {
            string b = $"{p}.transformer_blocks.{k}";
            foreach (var (attn, kv) in new[] { ("attn1", c), ("attn2", ctx) })
            {
                l.Linear($"{b}.{attn}.to_q", c, c, bias: false);
                l.Linear($"{b}.{attn}.to_k", c, kv, bias: false);
                l.Linear($"{b}.{attn}.to_v", c, kv, bias: false);
                l.Linear($"{b}.{attn}.to_out.0", c, c);
            }
            l.Linear($"{b}.ff.net.0.proj", 8 * c, c);
            l.Linear($"{b}.ff.net.2", c, 4 * c);
            l.Norm($"{b}.norm1", c);
            l.Norm($"{b}.norm2", c);
            l.Norm($"{b}.norm3", c);
        }
        l.Linear(p + ".proj_out", c, c);
    }

    public static void ClipL(TensorLayout l, SdxlSizes s, string p)
    {
        int w = s.ClipLWidth;
        l.Add(p + "embeddings.token_embedding.weight", ParamKind.Embedding, s.Vocab, w);
        l.Add(p + "embeddings.position_embedding.weight", ParamKind.Embedding, s.Positions, w);
        l.Add(p + "embeddings.position_ids", ParamKind.Index, DType.I64, 1, s.Positions);
        for (int i = 0; i < s.ClipLLayers; i++)
        {
            string b = $"{p}encoder.layers.{i}";
            l.Norm(b + ".layer_norm1", w);
            l.Norm(b + ".layer_norm2", w);
            l.Linear(b + ".mlp.fc1", 4 * w, w);
            l.Linear(b + ".mlp.fc2", w, 4 * w);
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" }) l.Linear($"{b}.self_attn.{proj}", w, w);
        }
        l.Norm(p + "final_layer_norm", w);
    }

    public static void OpenClipG(TensorLayout l, SdxlSizes s, string p)
    {
        int w = s.ClipGWidth;
        l.Add(p + "token_embedding.weight", ParamKind.Embedding, s.Vocab, w);
        l.Add(p + "positional_embedding", ParamKind.Embedding, s.Positions, w);
        for (int i = 0; i < s.ClipGLayers; i++)
        {
            string b = $"{p}transformer.resblocks.{i}";
            l.Norm(b + ".ln_1", w);
            l.Norm(b + ".ln_2", w);
            l.Add(b + ".attn.in_proj_weight", ParamKind.Weight, 3 * w, w);
            l.Add(b + ".attn.in_proj_bias", ParamKind.Bias, 3 * w);
            l.Linear(b + ".attn.out_proj", w, w);
            l.Linear(b + ".mlp.c_fc", 4 * w, w);
            l.Linear(b + ".mlp.c_proj", w, 4 * w);
        }
        l.Norm(p + "ln_final", w);
        l.Add(p + "text_projection", ParamKind.Weight, w, s.ClipGProjection);
        l.Add(p + "logit_scale", ParamKind.Scalar, 1);
    }

    public static void Vae(TensorLayout l, SdxlSizes s, string p)
    {
        var ch = s.VaeChannels;
        int z = s.LatentChannels, last = ch[^1];
        l.Conv(p + "encoder.conv_in", ch[0], 3, 3);
        int prev = ch[0];
        for (int i = 0; i < ch.Length; i++)
        {
            for (int j = 0; j < s.VaeResBlocks; j++)
            {
                VaeResBlock(l, $"{p}encoder.down.{i}.block.{j}", prev, ch[i]);
                prev = ch[i];
            }
            if (i != ch.Length - 1) l.Conv($"{p}encoder.down.{i}.downsample.conv", ch[i], ch[i], 3);
        }
        VaeMid(l, p + "encoder.mid", last);
        l.Norm(p + "encoder.norm_out", last);
        l.Conv(p + "encoder.conv_out", 2 * z, last, 3);
        l.Conv(p + "quant_conv", 2 * z, 2 * z, 1);
        l.Conv(p + "post_quant_conv", z, z, 1);
        l.Conv(p + "decoder.conv_in", last, z, 3);
        VaeMid(l, p + "decoder.mid", last);
        prev = last;
        for (int i = ch.Length - 1; i >= 0; i--)
        {
            for (int j = 0; j <= s.VaeResBlocks; j++)
            {
                VaeResBlock(l, $"{p}decoder.up.{i}.block.{j}", prev, ch[i]);
                prev = ch[i];
            }
            if (i != 0) l.Conv($"{p}decoder.up.{i}.upsample.conv", ch[i], ch[i], 3);
        }
        l.Norm(p + "decoder.norm_out", ch[0]);
        l.Conv(p + "decoder.conv_out", 3, ch[0], 3);
    }

    private static void VaeResBlock(TensorLayout l, string p, int i, int o)
    {
        l.Norm(p + ".norm1", i);
        l.Conv(p + ".conv1", o, i, 3);
        l.Norm(p + ".norm2", o);
        l.Conv(p + ".conv2", o, o, 3);
        if (i != o) l.Conv(p + ".nin_shortcut", o, i, 1);
    }

    private static void VaeMid(TensorLayout l, string p, int c)
    {
        VaeResBlock(l, p + ".block_1", c, c);
        l.Norm(p + ".attn_1.norm", c);
        foreach (var x in new[] { "q", "k", "v", "proj_out" }) l.Conv($"{p}.attn_1.{x}", c, c, 1);
        VaeResBlock(l, p + ".block_2", c, c);
    }
}
