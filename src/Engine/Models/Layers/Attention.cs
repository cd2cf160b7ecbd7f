namespace LayerDiffusion.Native.Models.Layers;

/// <summary>Where an attention's projections live.</summary>
public sealed record AttentionNames(string Q, string K, string V, string Out)
{
    /// <summary>sgm CrossAttention (the UNet's transformer blocks).</summary>
    public static AttentionNames Sgm { get; } = new("to_q", "to_k", "to_v", "to_out.0");
    /// <summary>Hugging Face CLIP (OpenCLIP files are read through this naming; see ClipConfig).</summary>
    public static AttentionNames Clip { get; } = new("q_proj", "k_proj", "v_proj", "out_proj");
}

/// <summary>
/// Multi-head scaled-dot-product attention with its projections: q = x·Wq, k = c·Wk, v = c·Wv (biases where the
/// architecture has them), softmax(q·kᵀ/√d)·v over the heads, then the output projection (with bias). Self-attention
/// passes c = x. Heads and widths come from the configuration.
/// </summary>
/// <param name="storedAsConv">Projections stored as 1×1 convolutions (the autoencoder's): the form a recorded layout writes.</param>
public sealed class Attention(
    WeightSource vs, AttentionNames names, int queryDim, int contextDim, int heads, bool qkvBias, bool causal, bool storedAsConv = false)
{
    /// <summary>The module's key prefix in its network, e.g. "input_blocks.4.1.transformer_blocks.0.attn1".</summary>
    public string Name { get; } = vs.Prefix.TrimEnd('.');
    public int Heads { get; } = heads;
    public bool Causal { get; } = causal;
    public Linear Q { get; } = new(vs.Pp(names.Q), queryDim, queryDim, qkvBias, storedAsConv);
    public Linear K { get; } = new(vs.Pp(names.K), contextDim, queryDim, qkvBias, storedAsConv);
    public Linear V { get; } = new(vs.Pp(names.V), contextDim, queryDim, qkvBias, storedAsConv);
    public Linear Out { get; } = new(vs.Pp(names.Out), queryDim, queryDim, storedAsConv: storedAsConv);

    /// <param name="x">queries [B, N, C]</param>
    /// <param name="context">keys and values [B, M, contextDim]; null for self-attention</param>
    public Tensor Forward(IBackend b, Tensor x, Tensor? context = null)
    {
        using var scope = TensorScope.Open();
        return scope.MoveToOuter(Out.Forward(b, Attend(b, x, context)));
    }

    /// <summary>residual + Forward(x, context), the add done by the output projection's epilogue.</summary>
    public Tensor ForwardAdd(IBackend b, Tensor x, Tensor? context, Tensor residual)
    {
        using var scope = TensorScope.Open();
        return scope.MoveToOuter(Out.ForwardAdd(b, Attend(b, x, context), residual));
    }

    /// <summary>softmax(q·kᵀ/√d)·v over the heads, before the output projection.</summary>
    private Tensor Attend(IBackend b, Tensor x, Tensor? context)
    {
        var c = context ?? x;
        return b.Attention(Q.Forward(b, x), K.Forward(b, c), V.Forward(b, c), Heads, Causal);
    }
}
