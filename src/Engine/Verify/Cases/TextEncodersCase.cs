using LayerDiffusion.Native.Models.Clip;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// text_encoders: for each given pair p{i}_tokens_l / p{i}_tokens_g ([1, N] windows), both encoders'
/// penultimate states, OpenCLIP-G's pooled output and the concatenated context.
/// </summary>
public sealed class TextEncodersCase : ICaseRunner
{
    public string CaseName => "text_encoders";

    public void Run(CaseContext ctx)
    {
        string weights = ctx.Case.Uses.FirstOrDefault(u => ctx.Manifest.Find(u)?.Kind == "weights")
                         ?? throw new NotSupportedException("the case declares no weights file");
        var file = ctx.Weights(weights);
        using var clipL = ClipTextEncoder.LoadClipL(ctx.Backend, file);
        using var clipG = ClipTextEncoder.LoadOpenClipG(ctx.Backend, file);
        foreach (var input in ctx.Case.Inputs.Where(n => n.EndsWith("_tokens_l", StringComparison.Ordinal)))
        {
            string p = input[..^"_tokens_l".Length];
            var l = clipL.Encode(ToInt(ctx.InputI64(input)), pooled: false);
            var g = clipG.Encode(ToInt(ctx.InputI64(p + "_tokens_g")), pooled: true);
            ctx.Emit(p + "_l_penultimate", l.Penultimate);
            ctx.Emit(p + "_g_penultimate", g.Penultimate);
            ctx.Emit(p + "_g_pooled", g.Pooled!);
            ctx.Emit(p + "_context", FeatureConcat.Concat(l.Penultimate, l.Width, g.Penultimate, g.Width));
        }
    }

    private static int[] ToInt(long[] ids) => Array.ConvertAll(ids, v => checked((int)v));
}
