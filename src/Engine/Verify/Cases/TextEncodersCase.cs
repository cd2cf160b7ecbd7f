using LayerDiffusion.Native.Models.Clip;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// text_encoders: for each given pair p{i}_tokens_l / p{i}_tokens_g ([windows, N] ids), both encoders'
/// penultimate states (windows concatenated along tokens), OpenCLIP-G's pooled output of the first window and
/// the concatenated context.
/// </summary>
public sealed class TextEncodersCase : ICaseRunner
{
    public string CaseName => "text_encoders";

    public void Run(CaseContext ctx)
    {
        string weights = ctx.Case.Uses.FirstOrDefault(u => ctx.Manifest.Find(u)?.Kind == "weights")
                         ?? throw new NotSupportedException("the case declares no weights file");
        var file = ctx.Weights(weights);
        var encoders = Models.ModelFamily.Detect(file).TextEncoders;
        using var clipL = ClipTextEncoder.Load(ctx.Backend, file, encoders[0]);
        using var clipG = ClipTextEncoder.Load(ctx.Backend, file, encoders[1]);
        foreach (var input in ctx.Case.Inputs.Where(n => n.EndsWith("_tokens_l", StringComparison.Ordinal)))
        {
            string p = input[..^"_tokens_l".Length];
            var (l, _) = EncodeWindows(clipL, ctx, input, pooled: false);
            var (g, pooled) = EncodeWindows(clipG, ctx, p + "_tokens_g", pooled: true);
            ctx.Emit(p + "_l_penultimate", l);
            ctx.Emit(p + "_g_penultimate", g);
            ctx.Emit(p + "_g_pooled", pooled!);
            ctx.Emit(p + "_context", FeatureConcat.Concat([(l, clipL.Width), (g, clipG.Width)]));
        }
    }

    private static (float[] Hidden, float[]? Pooled) EncodeWindows(ClipTextEncoder enc, CaseContext ctx, string input, bool pooled)
    {
        var ids = Array.ConvertAll(ctx.InputI64(input), v => checked((int)v));
        int n = ctx.InputShape(input)[^1], windows = ids.Length / n;
        var hidden = new float[windows * n * enc.Width];
        float[]? first = null;
        for (int w = 0; w < windows; w++)
        {
            var o = enc.Encode(ids.AsSpan(w * n, n), pooled && w == 0);
            first ??= o.Pooled;
            o.Hidden.CopyTo(hidden, w * n * enc.Width);
        }
        return (hidden, first);
    }
}
