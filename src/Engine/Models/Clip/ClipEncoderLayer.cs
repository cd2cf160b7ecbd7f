using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>
/// One pre-LN CLIP transformer layer: x += out(attn_causal(LN1(x))); x += fc2(act(fc1(LN2(x)))).
/// Both layouts hold the same weights; OpenCLIP stacks q, k and v in one in_proj.
/// </summary>
internal sealed class ClipEncoderLayer : IDisposable
{
    public const float LayerNormEps = 1e-5f;

    private readonly ClipLayout _layout;
    private readonly int _width, _heads;
    private readonly Tensor _ln1W, _ln1B, _ln2W, _ln2B, _outW, _outB, _fc1W, _fc1B, _fc2W, _fc2B;
    private readonly Tensor? _qW, _qB, _kW, _kB, _vW, _vB; // Hugging Face
    private readonly Tensor? _inW, _inB;                   // OpenCLIP

    public ClipEncoderLayer(ClipTensorReader r, ClipLayout layout, string prefix, int width, int mlpWidth, int heads)
    {
        _layout = layout;
        _width = width;
        _heads = heads;
        if (layout == ClipLayout.HuggingFace)
        {
            _ln1W = r.Load(prefix + "layer_norm1.weight", width); _ln1B = r.Load(prefix + "layer_norm1.bias", width);
            _qW = r.Load(prefix + "self_attn.q_proj.weight", width, width); _qB = r.Load(prefix + "self_attn.q_proj.bias", width);
            _kW = r.Load(prefix + "self_attn.k_proj.weight", width, width); _kB = r.Load(prefix + "self_attn.k_proj.bias", width);
            _vW = r.Load(prefix + "self_attn.v_proj.weight", width, width); _vB = r.Load(prefix + "self_attn.v_proj.bias", width);
            _outW = r.Load(prefix + "self_attn.out_proj.weight", width, width); _outB = r.Load(prefix + "self_attn.out_proj.bias", width);
            _ln2W = r.Load(prefix + "layer_norm2.weight", width); _ln2B = r.Load(prefix + "layer_norm2.bias", width);
            _fc1W = r.Load(prefix + "mlp.fc1.weight", mlpWidth, width); _fc1B = r.Load(prefix + "mlp.fc1.bias", mlpWidth);
            _fc2W = r.Load(prefix + "mlp.fc2.weight", width, mlpWidth); _fc2B = r.Load(prefix + "mlp.fc2.bias", width);
        }
        else
        {
            _ln1W = r.Load(prefix + "ln_1.weight", width); _ln1B = r.Load(prefix + "ln_1.bias", width);
            _inW = r.Load(prefix + "attn.in_proj_weight", 3 * width, width); _inB = r.Load(prefix + "attn.in_proj_bias", 3 * width);
            _outW = r.Load(prefix + "attn.out_proj.weight", width, width); _outB = r.Load(prefix + "attn.out_proj.bias", width);
            _ln2W = r.Load(prefix + "ln_2.weight", width); _ln2B = r.Load(prefix + "ln_2.bias", width);
            _fc1W = r.Load(prefix + "mlp.c_fc.weight", mlpWidth, width); _fc1B = r.Load(prefix + "mlp.c_fc.bias", mlpWidth);
            _fc2W = r.Load(prefix + "mlp.c_proj.weight", width, mlpWidth); _fc2B = r.Load(prefix + "mlp.c_proj.bias", width);
        }
    }

    /// <summary>x [B, N, W] → [B, N, W]; the input is left untouched.</summary>
    public Tensor Forward(IBackend be, Tensor x)
    {
        using var scope = TensorScope.Open();
        var (q, k, v) = Project(be, be.LayerNorm(x, _ln1W, _ln1B, LayerNormEps));
        var x1 = be.Add(x, be.Linear(be.Attention(q, k, v, _heads, causal: true), _outW, _outB));
        var f = be.Linear(be.LayerNorm(x1, _ln2W, _ln2B, LayerNormEps), _fc1W, _fc1B);
        var g = _layout == ClipLayout.HuggingFace ? be.QuickGelu(f) : be.Gelu(f);
        return scope.MoveToOuter(be.Add(x1, be.Linear(g, _fc2W, _fc2B)));
    }

    private (Tensor Q, Tensor K, Tensor V) Project(IBackend be, Tensor h)
    {
        if (_layout == ClipLayout.HuggingFace)
            return (be.Linear(h, _qW!, _qB), be.Linear(h, _kW!, _kB), be.Linear(h, _vW!, _vB));
        var qkv = be.Linear(h, _inW!, _inB);
        return (be.Slice(qkv, -1, 0, _width), be.Slice(qkv, -1, _width, _width), be.Slice(qkv, -1, 2 * _width, _width));
    }

    public void Dispose()
    {
        foreach (var t in new[] { _ln1W, _ln1B, _ln2W, _ln2B, _outW, _outB, _fc1W, _fc1B, _fc2W, _fc2B, _qW, _qB, _kW, _kB, _vW, _vB, _inW, _inB })
            t?.Dispose();
    }
}
