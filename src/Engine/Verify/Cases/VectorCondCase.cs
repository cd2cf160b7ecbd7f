using LayerDiffusion.Native.Models;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>vector_cond: the SDXL y vector from a pooled output and six size conditions.</summary>
public sealed class VectorCondCase : ICaseRunner
{
    public string CaseName => "vector_cond";

    public void Run(CaseContext ctx)
    {
        var pooled = ctx.InputF32("pooled");
        var conds = ctx.InputF32("size_conds");
        ctx.Emit("y", VectorConditioning.Build(pooled, conds));
        ctx.Emit("emb_2", SinusoidalEmbedding.Of(ctx.InputF32("size_conds_2"), VectorConditioning.SizeEmbeddingWidth));
    }
}
