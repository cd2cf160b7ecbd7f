using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

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

    /// <summary>The configuration of the UNet under <paramref name="prefix"/> of a checkpoint (reads shapes only).</summary>
    public static UnetConfig Infer(SafeTensorsFile f, string prefix, AttentionHeads heads) => Infer(WeightStore.Open(CpuBackend.Instance, f, prefix), heads);

    public static UnetConfig Infer(WeightSource w, AttentionHeads heads)
    {
        if (!w.Has("input_blocks.0.0.weight")) throw w.Error("input_blocks.0.0.weight", "missing: not an SDXL UNet");
        var conv0 = w.Dims("input_blocks.0.0.weight").OfRank(4);
        int mc = conv0[0], inCh = conv0[1];
        if (mc == 0) throw w.Error("input_blocks.0.0.weight", "has no output channels");
        int outCh = w.Dims("out.2.weight")[0];
        int adm = w.Has("label_emb.0.0.weight") ? w.Dims("label_emb.0.0.weight")[1] : 0;
        int temb = w.Dims("time_embed.0.weight")[0];
        // A block's transformer depth, and the context width its cross-attention reads.
        int Depth(string block) => w.CountOf(k => $"{block}.1.transformer_blocks.{k}.norm1.weight");
        int ContextOf(string block) => w.Dims($"{block}.1.transformer_blocks.0.attn2.to_k.weight")[1];

        var mult = new List<int>();
        var inDepths = new List<int>();
        int resInLevel = 0, numRes = -1, ch = mc, contextDim = 0;
        for (int n = 1; w.Has($"input_blocks.{n}.0.op.weight") || w.Has($"input_blocks.{n}.0.in_layers.0.weight"); n++)
        {
            if (w.Has($"input_blocks.{n}.0.op.weight"))
            {
                mult.Add(ch / mc);
                numRes = numRes < 0 ? resInLevel : numRes;
                resInLevel = 0;
                continue;
            }
            ch = w.Dims($"input_blocks.{n}.0.out_layers.3.weight")[0];
            inDepths.Add(Depth($"input_blocks.{n}"));
            if (inDepths[^1] > 0) contextDim = ContextOf($"input_blocks.{n}");
            resInLevel++;
        }
        mult.Add(ch / mc);
        numRes = numRes < 0 ? resInLevel : numRes;

        var outDepths = Enumerable.Range(0, w.CountOf(n => $"output_blocks.{n}.0.in_layers.0.weight")).Select(n => Depth($"output_blocks.{n}")).ToArray();
        int mid = Depth("middle_block");
        if (mid > 0 && contextDim == 0) contextDim = ContextOf("middle_block");
        if (outDepths.Length != mult.Count * (numRes + 1))
            throw w.Error($"output_blocks.{outDepths.Length}", $"expected {mult.Count * (numRes + 1)} output blocks for {mult.Count} levels of {numRes} ResBlocks, found {outDepths.Length}");
        return new UnetConfig(inCh, outCh, mc, mult.ToArray(), numRes, inDepths.ToArray(), outDepths, mid, contextDim, adm, temb, heads);
    }
}
