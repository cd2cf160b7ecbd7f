using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Unet;

/// <summary>
/// sgm SpatialTransformer with linear projections (use_linear_in_transformer):
/// x_in = x; x = GN(x) (32 groups, eps 1e-6); [B, C, H, W] → [B, HW, C]; proj_in; depth × BasicTransformerBlock;
/// proj_out; back to [B, C, H, W]; return x + x_in.
/// </summary>
internal sealed class SpatialTransformer
{
    private const int Groups = 32;
    private const float Eps = 1e-6f;

    private readonly Tensor _normW, _normB, _projInW, _projInB, _projOutW, _projOutB;
    private readonly TransformerBlock[] _blocks;

    public SpatialTransformer(WeightStore w, string p, int channels, int depth, int contextDim, AttentionHeads headRule)
    {
        int heads = headRule.For(channels)
            ?? throw new ModelFormatException(w.Source, w.Prefix + p + "proj_in.weight", $"width {channels} does not split into the family's attention heads ({headRule})");
        Channels = channels;
        _normW = w.Get(p + "norm.weight", channels);
        _normB = w.Get(p + "norm.bias", channels);
        _projInW = w.GetLinear(p + "proj_in.weight", channels, channels);
        _projInB = w.Get(p + "proj_in.bias", channels);
        _projOutW = w.GetLinear(p + "proj_out.weight", channels, channels);
        _projOutB = w.Get(p + "proj_out.bias", channels);
        _blocks = new TransformerBlock[depth];
        for (int i = 0; i < depth; i++)
            _blocks[i] = new TransformerBlock(w, $"{p}transformer_blocks.{i}.", channels, contextDim, heads);
    }

    public int Channels { get; }
    public IReadOnlyList<TransformerBlock> Blocks => _blocks;

    /// <param name="x">[B, C, H, W]</param>
    /// <param name="context">[B, N, ctx]</param>
    public Tensor Forward(IBackend b, Tensor x, Tensor context)
    {
        using var scope = TensorScope.Open();
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var nhwc = b.Permute(b.GroupNorm(x, Groups, _normW, _normB, Eps, silu: false), 0, 2, 3, 1);
        var tokens = b.Linear(b.Reshape(nhwc, n, h * w, c), _projInW, _projInB);
        foreach (var block in _blocks)
        {
            var next = block.Forward(b, tokens, context);
            tokens.Dispose();
            tokens = next;
        }
        var projected = b.Linear(tokens, _projOutW, _projOutB);
        var nchw = b.Permute(b.Reshape(projected, n, h, w, c), 0, 3, 1, 2);
        return scope.MoveToOuter(b.Add(nchw, x));
    }
}

/// <summary>
/// sgm BasicTransformerBlock: x += attn1(LN1(x)) (self); x += attn2(LN2(x), context) (cross); x += ff(LN3(x)),
/// with ff = Linear(GEGLU(Linear(x))) (value half first, exact GELU on the gate). LayerNorm eps 1e-5.
/// </summary>
internal sealed class TransformerBlock
{
    private const float Eps = 1e-5f;

    private readonly Tensor _ln1W, _ln1B, _ln2W, _ln2B, _ln3W, _ln3B, _ff0W, _ff0B, _ff2W, _ff2B;
    private readonly Attention _selfAttn, _crossAttn;

    public TransformerBlock(WeightStore w, string p, int channels, int contextDim, int heads)
    {
        _ln1W = w.Get(p + "norm1.weight", channels);
        _ln1B = w.Get(p + "norm1.bias", channels);
        _ln2W = w.Get(p + "norm2.weight", channels);
        _ln2B = w.Get(p + "norm2.bias", channels);
        _ln3W = w.Get(p + "norm3.weight", channels);
        _ln3B = w.Get(p + "norm3.bias", channels);
        _selfAttn = new Attention(w, p + "attn1.", channels, channels, heads);
        _crossAttn = new Attention(w, p + "attn2.", channels, contextDim, heads);
        // The feed-forward width is read from the checkpoint (4·C in SDXL); GEGLU's projection is twice that.
        int ffWidth = w.ShapeOf(p + "ff.net.2.weight") is [_, int f] ? f : throw new ModelFormatException(w.Source, w.Prefix + p + "ff.net.2.weight", "is not a linear weight");
        _ff0W = w.Get(p + "ff.net.0.proj.weight", 2 * ffWidth, channels);
        _ff0B = w.Get(p + "ff.net.0.proj.bias", 2 * ffWidth);
        _ff2W = w.Get(p + "ff.net.2.weight", channels, ffWidth);
        _ff2B = w.Get(p + "ff.net.2.bias", channels);
    }

    /// <summary>Replaces the block's attentions when set (SD1.5's attention sharing).</summary>
    public IAttentionHook? Hook { get; set; }

    /// <param name="x">[B, N, C]</param>
    public Tensor Forward(IBackend b, Tensor x, Tensor context)
    {
        var h1 = Residual(b, x, _ln1W, _ln1B, n => Hook?.Attend(b, n, null, self: true) ?? _selfAttn.Forward(b, n, n));
        var h2 = Residual(b, h1, _ln2W, _ln2B, n => Hook?.Attend(b, n, context, self: false) ?? _crossAttn.Forward(b, n, context));
        h1.Dispose();
        using var scope = TensorScope.Open();
        var g = b.Geglu(b.Linear(b.LayerNorm(h2, _ln3W, _ln3B, Eps), _ff0W, _ff0B));
        var h3 = scope.MoveToOuter(b.LinearAdd(g, _ff2W, _ff2B, h2)); // h2 + ff.net.2(g), the add in the GEMM's epilogue
        h2.Dispose();
        return h3;
    }

    /// <summary>x + f(LN(x)); f's intermediates are freed before the next sublayer starts.</summary>
    private static Tensor Residual(IBackend b, Tensor x, Tensor lnW, Tensor lnB, Func<Tensor, Tensor> f)
    {
        using var scope = TensorScope.Open();
        return scope.MoveToOuter(b.Add(x, f(b.LayerNorm(x, lnW, lnB, Eps))));
    }
}

/// <summary>Replaces a transformer block's attentions: gets the normed input and the context, returns what the attention would.</summary>
public interface IAttentionHook
{
    /// <param name="self">True for the self-attention (attn1), false for the cross-attention (attn2).</param>
    Tensor Attend(IBackend b, Tensor x, Tensor? context, bool self);
}

/// <summary>
/// sgm CrossAttention: q = x·Wq, k = c·Wk, v = c·Wv (no biases), the family's heads, softmax(q·kᵀ/√d)·v, then to_out.0
/// (Linear with bias). Self-attention passes c = x.
/// </summary>
internal sealed class Attention
{
    private readonly Tensor _q, _k, _v, _outW, _outB;
    private readonly int _heads;

    public Attention(WeightStore w, string p, int channels, int kvDim, int heads)
    {
        _q = w.Get(p + "to_q.weight", channels, channels);
        _k = w.Get(p + "to_k.weight", channels, kvDim);
        _v = w.Get(p + "to_v.weight", channels, kvDim);
        _outW = w.Get(p + "to_out.0.weight", channels, channels);
        _outB = w.Get(p + "to_out.0.bias", channels);
        _heads = heads;
    }

    /// <param name="x">queries [B, N, C]</param>
    /// <param name="c">keys and values [B, M, kvDim]</param>
    public Tensor Forward(IBackend b, Tensor x, Tensor c)
    {
        using var scope = TensorScope.Open();
        var o = b.Attention(b.Linear(x, _q, null), b.Linear(c, _k, null), b.Linear(c, _v, null), _heads, causal: false);
        return scope.MoveToOuter(b.Linear(o, _outW, _outB));
    }
}
