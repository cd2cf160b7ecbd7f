namespace LayerDiffusion.Native.Models.Layers;

/// <summary>Where a transformer block's parts live; a block without cross-attention has no Norm2/CrossAttention.</summary>
public sealed record TransformerNames(string Norm1, string SelfAttention, string? Norm2, string? CrossAttention, string Norm3, string FeedForward)
{
    /// <summary>sgm BasicTransformerBlock (the UNet).</summary>
    public static TransformerNames Sgm { get; } = new("norm1", "attn1", "norm2", "attn2", "norm3", "ff");
    /// <summary>Hugging Face CLIPEncoderLayer.</summary>
    public static TransformerNames Clip { get; } = new("layer_norm1", "self_attn", null, null, "layer_norm2", "mlp");
}

/// <summary>How a transformer block is built: its naming, widths, heads and the pieces that differ between networks.</summary>
/// <param name="ContextDim">Cross-attention's key/value width; 0 for a block without cross-attention.</param>
public sealed record TransformerSpec(TransformerNames Names, AttentionNames Attention, int Width, int ContextDim, int Heads, bool QkvBias,
    bool Causal, FeedForwardNames FeedForwardNames, FeedForwardKind FeedForward, int FeedForwardInner, float Eps);

/// <summary>
/// A pre-LN transformer block (sgm BasicTransformerBlock, CLIP's encoder layer): x += attn1(LN1(x));
/// x += attn2(LN2(x), context) where there is cross-attention; x += ff(LN3(x)). Each sublayer's intermediates are freed
/// before the next starts. An <see cref="IAttentionHook"/>, when attached, replaces the attentions (SD1.5's attention sharing).
/// </summary>
public sealed class TransformerBlock(WeightSource vs, TransformerSpec spec)
{
    // Initialised in this order, which is the order the weights are loaded (and recorded) in.
    private readonly LayerNorm _norm1 = new(vs.Pp(spec.Names.Norm1), spec.Width, spec.Eps);
    public Attention SelfAttention { get; } =
        new(vs.Pp(spec.Names.SelfAttention), spec.Attention, spec.Width, spec.Width, spec.Heads, spec.QkvBias, spec.Causal);
    private readonly LayerNorm? _norm2 = spec.ContextDim > 0 ? new(vs.Pp(spec.Names.Norm2!), spec.Width, spec.Eps) : null;
    public Attention? CrossAttention { get; } = spec.ContextDim > 0
        ? new(vs.Pp(spec.Names.CrossAttention!), spec.Attention, spec.Width, spec.ContextDim, spec.Heads, spec.QkvBias, causal: false) : null;
    private readonly LayerNorm _norm3 = new(vs.Pp(spec.Names.Norm3), spec.Width, spec.Eps);
    private readonly FeedForward _ff = new(vs.Pp(spec.Names.FeedForward), spec.FeedForwardNames, spec.FeedForward, spec.Width, spec.FeedForwardInner);

    /// <summary>
    /// Routes the block's attentions through <paramref name="hook"/> (null: the module's own path), numbering them from
    /// <paramref name="firstIndex"/>; returns the next network-wide index.
    /// </summary>
    public int AttachHook(IAttentionHook? hook, int firstIndex)
    {
        _hook = hook;
        _firstIndex = firstIndex;
        return firstIndex + (CrossAttention is null ? 1 : 2);
    }

    private IAttentionHook? _hook;
    private int _firstIndex;

    /// <param name="x">[B, N, Width]</param>
    /// <param name="context">[B, M, ContextDim] for a block with cross-attention</param>
    public Tensor Forward(IBackend b, Tensor x, Tensor? context = null)
    {
        Func<Tensor, Tensor> self = h => Sublayer(b, h, _norm1, n => Attend(b, h, n, SelfAttention, null, _firstIndex));
        Func<Tensor, Tensor> ff = h => Sublayer(b, h, _norm3, n => _ff.ForwardAdd(b, n, h));
        if (CrossAttention is null) return TensorScope.Chain(x, self, ff);
        var c = context ?? throw new ArgumentException("this block attends to a context");
        return TensorScope.Chain(x, self, h => Sublayer(b, h, _norm2!, n => Attend(b, h, n, CrossAttention, c, _firstIndex + 1)), ff);
    }

    /// <summary>x + attention(n): the add in the output projection's epilogue, or after the hook's replacement.</summary>
    private Tensor Attend(IBackend b, Tensor x, Tensor n, Attention a, Tensor? context, int index) =>
        _hook is null ? a.ForwardAdd(b, n, context, x) : b.Add(x, _hook.Attend(b, new AttentionCall(index, a, n, context)));

    /// <summary>A sublayer x + f(LN(x)), its intermediates freed before the next sublayer starts.</summary>
    private static Tensor Sublayer(IBackend b, Tensor x, LayerNorm norm, Func<Tensor, Tensor> residualOf)
    {
        using var scope = TensorScope.Open();
        return scope.MoveToOuter(residualOf(norm.Forward(b, x)));
    }
}
