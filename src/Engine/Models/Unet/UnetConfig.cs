using LayerDiffusion.Native.IO;

namespace LayerDiffusion.Native.Models.Unet;

/// <summary>
/// The SDXL-topology UNet's configuration, read from tensor shapes as ComfyUI's detect_unet_config does; the one
/// thing shapes do not show, how attention splits into heads, comes from the model family. Depths are per input
/// ResBlock and per output ResBlock, so SSD-1B-style models and the tiny test models load through the same code.
/// </summary>
public sealed record UnetConfig(
    int InChannels,
    int OutChannels,
    int ModelChannels,
    int[] ChannelMult,
    int NumResBlocks,
    int[] InputDepths,
    int[] OutputDepths,
    int MiddleDepth,
    int ContextDim,
    int AdmInChannels,
    int TimeEmbedDim,
    AttentionHeads Heads)
{
    /// <summary>Transformer depth per level (the depth of that level's first input ResBlock).</summary>
    public int[] LevelDepths => Enumerable.Range(0, ChannelMult.Length).Select(l => InputDepths[l * NumResBlocks]).ToArray();

    public static UnetConfig Infer(SafeTensorsFile f, string prefix, AttentionHeads heads)
    {
        string K(string s) => prefix + s;
        TensorDims S(string s) => f.Dims(K(s));
        if (!f.Contains(K("input_blocks.0.0.weight")))
            throw new ModelFormatException(f.Path, K("input_blocks.0.0.weight"), "missing: not an SDXL UNet");
        var conv0 = S("input_blocks.0.0.weight");
        int mc = conv0.OfRank(4)[0], inCh = conv0[1];
        if (mc == 0) throw new ModelFormatException(f.Path, K("input_blocks.0.0.weight"), "has no output channels");
        int outCh = S("out.2.weight")[0];
        int adm = f.Contains(K("label_emb.0.0.weight")) ? S("label_emb.0.0.weight")[1] : 0;
        int temb = S("time_embed.0.weight")[0];

        var mult = new List<int>();
        var inDepths = new List<int>();
        int resInLevel = 0, numRes = -1, ch = mc;
        int contextDim = 0;
        for (int n = 1; f.Contains(K($"input_blocks.{n}.0.op.weight")) || f.Contains(K($"input_blocks.{n}.0.in_layers.0.weight")); n++)
        {
            if (f.Contains(K($"input_blocks.{n}.0.op.weight")))
            {
                mult.Add(ch / mc);
                numRes = numRes < 0 ? resInLevel : numRes;
                resInLevel = 0;
                continue;
            }
            ch = S($"input_blocks.{n}.0.out_layers.3.weight")[0];
            int depth = CountBlocks(f, K($"input_blocks.{n}.1.transformer_blocks."));
            if (depth > 0) contextDim = S($"input_blocks.{n}.1.transformer_blocks.0.attn2.to_k.weight")[1];
            inDepths.Add(depth);
            resInLevel++;
        }
        mult.Add(ch / mc);
        numRes = numRes < 0 ? resInLevel : numRes;

        var outDepths = new List<int>();
        for (int n = 0; f.Contains(K($"output_blocks.{n}.0.in_layers.0.weight")); n++)
            outDepths.Add(CountBlocks(f, K($"output_blocks.{n}.1.transformer_blocks.")));
        int mid = CountBlocks(f, K("middle_block.1.transformer_blocks."));
        if (mid > 0 && contextDim == 0) contextDim = S("middle_block.1.transformer_blocks.0.attn2.to_k.weight")[1];
        if (outDepths.Count != mult.Count * (numRes + 1))
            throw new ModelFormatException(f.Path, K($"output_blocks.{outDepths.Count}"), $"expected {mult.Count * (numRes + 1)} output blocks for {mult.Count} levels of {numRes} ResBlocks, found {outDepths.Count}");
        return new UnetConfig(inCh, outCh, mc, mult.ToArray(), numRes, inDepths.ToArray(), outDepths.ToArray(), mid, contextDim, adm, temb, heads);
    }

    private static int CountBlocks(SafeTensorsFile f, string blockPrefix)
    {
        int k = 0;
        while (f.Contains($"{blockPrefix}{k}.norm1.weight")) k++;
        return k;
    }
}
