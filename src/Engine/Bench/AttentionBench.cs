using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// The backend's attention alone (q, k, v already projected) at every shape the models produce: the UNet's self- and
/// cross-attention per level with transformers (64-wide heads; 77 context tokens), per size and batch, and the
/// transparent decoder's self-attention (8-wide heads), batch 1. Shapes are read from the files, never assumed.
/// Records carry batch, heads, queries, keys and head width (shape text "b2 h10 q4096 k4096 d64", as torch_reference.py writes it).
/// </summary>
public static class AttentionBench
{
    public readonly record struct AttentionShape(int Batch, int Heads, int Queries, int Keys, int HeadWidth)
    {
        public BenchParams Params => new() { Batch = Batch, Heads = Heads, Queries = Queries, Keys = Keys, HeadWidth = HeadWidth };
        public override string ToString() => Params.ToShapeText();
    }

    public static void Run(BenchContext ctx)
    {
        foreach (var s in Shapes(ctx))
        {
            int c = s.Heads * s.HeadWidth;
            using var q = ctx.Input(-1, 1, s.Batch, s.Queries, c);
            using var k = ctx.Input(-1, 1, s.Batch, s.Keys, c);
            using var v = ctx.Input(-1, 1, s.Batch, s.Keys, c);
            ctx.Runner.Measure("attention", s.Params, ctx.Settings.DType,
                () => ctx.Finish(ctx.Backend.Attention(q, k, v, s.Heads, causal: false)));
        }
    }

    public static List<AttentionShape> Shapes(BenchContext ctx)
    {
        var list = new List<AttentionShape>();
        var family = Models.ModelFamily.Detect(ctx.Checkpoint);
        var cfg = UnetConfig.Infer(ctx.Checkpoint, family.UnetPrefix, family.UnetHeads);
        foreach (var (w, h) in ctx.Settings.Sizes)
            foreach (int batch in ctx.Settings.Batches)
                list.AddRange(UnetShapes(cfg, w, h, batch));
        if (ctx.Files.Decoder is { } path)
        {
            var file = ctx.Open(path);
            foreach (var (w, h) in ctx.Settings.Sizes) list.AddRange(DecoderShapes(file, w, h));
        }
        return list.Distinct().ToList();
    }

    /// <summary>Per level with transformers: self-attention over the level's tokens, then cross-attention to 77 tokens.</summary>
    public static IEnumerable<AttentionShape> UnetShapes(UnetConfig cfg, int width, int height, int batch)
    {
        var depths = cfg.LevelDepths;
        for (int level = 0; level < cfg.ChannelMult.Length; level++)
        {
            if (depths[level] == 0) continue;
            int channels = cfg.ChannelMult[level] * cfg.ModelChannels;
            int tokens = (height / 8 >> level) * (width / 8 >> level);
            int heads = cfg.Heads.For(channels) ?? throw new ArgumentException($"{channels} channels do not split into {cfg.Heads}");
            yield return new(batch, heads, tokens, tokens, channels / heads);
            yield return new(batch, heads, tokens, 77, channels / heads);
        }
    }

    /// <summary>
    /// Down blocks with attention, at the resolution each runs at (the up path repeats the same shapes), read from the
    /// released key layout: width from the first resnet's conv1, a downsampler after the block halves the resolution
    /// (sides first padded to the network's multiple, as the decoder does).
    /// </summary>
    public static IEnumerable<AttentionShape> DecoderShapes(SafeTensorsFile f, int width, int height)
    {
        int resamples = 0;
        for (int i = 0; f.Contains($"down_blocks.{i}.resnets.0.conv1.weight"); i++)
            if (f.Contains($"down_blocks.{i}.downsamplers.0.conv.weight")) resamples++;
        // The decoder mirror-pads each side up to a multiple of 2^resamples before the network.
        int multiple = 1 << resamples;
        width = (width + multiple - 1) / multiple * multiple;
        height = (height + multiple - 1) / multiple * multiple;
        int downs = 0;
        for (int i = 0; f.Contains($"down_blocks.{i}.resnets.0.conv1.weight"); i++)
        {
            int channels = f.Info($"down_blocks.{i}.resnets.0.conv1.weight").Shape[0];
            if (f.Contains($"down_blocks.{i}.attentions.0.to_q.weight"))
            {
                int tokens = (height >> downs) * (width >> downs);
                int heads = TransparentDecoderConfig.Heads.For(channels) ?? throw new ArgumentException($"{channels} channels do not split into {TransparentDecoderConfig.Heads}");
                yield return new(1, heads, tokens, tokens, channels / heads);
            }
            if (f.Contains($"down_blocks.{i}.downsamplers.0.conv.weight")) downs++;
        }
    }
}
