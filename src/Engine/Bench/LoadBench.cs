using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Models.Vae;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// Model load: each network from its (already open, page-cached after the warm-up) safetensors file onto the
/// backend, conversion to the storage dtype included, then freed. Timed runs are capped at 3 (seconds each).
/// </summary>
public static class LoadBench
{
    private const int MaxRuns = 3;

    public static void Run(BenchContext ctx)
    {
        var b = ctx.Backend;
        var ckpt = ctx.Checkpoint;
        if (ctx.Files.Tokenizer is { } tok)
            Measure(ctx, "load.text", ModelFamily.Sdxl.TextEncoders.Sum(e => Params(ckpt, e.Prefix)), () =>
            {
                using var t = TextConditioner.Load(b, ckpt, ModelFamily.Detect(ckpt), tok);
                ctx.Sync();
            });
        Measure(ctx, "load.unet", Params(ckpt, SdxlUnet.CheckpointPrefix), () =>
        {
            var u = SdxlUnet.Load(b, ckpt);
            ctx.Sync();
            BenchContext.Free(u.Weights);
        });
        Measure(ctx, "load.vae", Params(ckpt, SdxlVae.CheckpointPrefix), () =>
        {
            var v = SdxlVae.Load(b, ckpt);
            ctx.Sync();
            BenchContext.Free(v.Weights);
        });
        foreach (var (name, path) in new[] { ("load.transparent_decoder", ctx.Files.Decoder), ("load.transparent_encoder", ctx.Files.Encoder) })
        {
            if (path is null) continue;
            var file = ctx.Open(path);
            Measure(ctx, name, Params(file, ""), () =>
            {
                var w = WeightStore.Load(b, file, "");
                ctx.Sync();
                BenchContext.Free(w);
            });
        }
    }

    private static void Measure(BenchContext ctx, string name, long parameters, Action work) =>
        ctx.Runner.Measure(name, new BenchParams { Parameters = parameters }, ctx.Settings.DType, work, maxRuns: MaxRuns);

    /// <summary>Float parameters under a key prefix.</summary>
    public static long Params(SafeTensorsFile f, string prefix)
    {
        long n = 0;
        foreach (var name in f.Names)
        {
            var info = f.Info(name);
            if (name.StartsWith(prefix, StringComparison.Ordinal) && Tensors.DTypes.IsFloat(info.DType)) n += info.ElementCount;
        }
        return n;
    }
}
