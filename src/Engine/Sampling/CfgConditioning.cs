using LayerDiffusion.Native.Models.Clip;

namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// The two halves of a classifier-free guidance run, uploaded once: the negative and the positive crossattn context
/// [B, N, D] (N may differ between the halves) and vector conditioning y [B, adm] (absent for a family without it).
/// Owned by whoever holds it (a <see cref="GuidedDenoiser"/>); no scope frees these tensors.
/// </summary>
public sealed class CfgConditioning : IDisposable
{
    private CfgConditioning(Tensor negativeContext, Tensor positiveContext, Tensor? negativeY, Tensor? positiveY)
    {
        if (negativeContext.Dim(0) != positiveContext.Dim(0) || negativeContext.Dim(2) != positiveContext.Dim(2))
            throw new ArgumentException($"CFG halves {Shape.Format(negativeContext.Shape)} and {Shape.Format(positiveContext.Shape)} differ in batch or width");
        if ((negativeY is null) != (positiveY is null) || negativeY is not null && (negativeY.Dim(0) != negativeContext.Dim(0) || positiveY!.Dim(0) != negativeContext.Dim(0)))
            throw new ArgumentException("the vector conditioning must be given for both halves, one row per context row");
        NegativeContext = TensorScope.Detach(negativeContext);
        PositiveContext = TensorScope.Detach(positiveContext);
        NegativeY = negativeY is null ? null : TensorScope.Detach(negativeY);
        PositiveY = positiveY is null ? null : TensorScope.Detach(positiveY);
    }

    public Tensor NegativeContext { get; }
    public Tensor PositiveContext { get; }
    public Tensor? NegativeY { get; }
    public Tensor? PositiveY { get; }
    /// <summary>Rows per half: the latent batch.</summary>
    public int Batch => PositiveContext.Dim(0);

    /// <summary>Encoded prompts and their vector conditioning, each repeated over the <paramref name="batch"/> images.</summary>
    public static CfgConditioning FromPrompts(IBackend b, PromptEmbedding negative, PromptEmbedding positive, float[]? yNegative, float[]? yPositive, int batch)
    {
        using var scope = TensorScope.Open();
        Tensor Rows(float[] row, params int[] rowShape)
        {
            var t = b.FromHost(row, rowShape);
            return batch == 1 ? t : b.Concat(0, Enumerable.Repeat(t, batch).ToArray());
        }
        return new CfgConditioning(Rows(negative.Context, negative.ContextShape), Rows(positive.Context, positive.ContextShape),
            yNegative is null ? null : Rows(yNegative, 1, yNegative.Length), yPositive is null ? null : Rows(yPositive, 1, yPositive.Length));
    }

    /// <summary>A whole CFG batch [2B, ...] as the references store it, negative rows first unless said otherwise.</summary>
    public static CfgConditioning FromCfgBatch(IBackend b, float[] context, int[] contextShape, float[]? y, int[]? yShape, bool negativeFirst = true)
    {
        using var scope = TensorScope.Open();
        if (contextShape.Length != 3 || contextShape[0] % 2 != 0)
            throw new ArgumentException($"a CFG batch context is [2B, N, D], not {Shape.Format(contextShape)}");
        int half = contextShape[0] / 2;
        (Tensor Negative, Tensor Positive) Halves(Tensor t)
        {
            var (first, second) = (b.Slice(t, 0, 0, half), b.Slice(t, 0, half, half));
            return negativeFirst ? (first, second) : (second, first);
        }
        var (cn, cp) = Halves(b.FromHost(context, contextShape));
        var (yn, yp) = y is null ? (null, null) : Halves(b.FromHost(y, yShape!));
        return new CfgConditioning(cn, cp, yn, yp);
    }

    public void Dispose()
    {
        NegativeContext.Dispose();
        PositiveContext.Dispose();
        NegativeY?.Dispose();
        PositiveY?.Dispose();
    }
}
