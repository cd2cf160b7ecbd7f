using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Vae;

/// <summary>
/// The autoencoder's ResnetBlock (sgm diffusionmodules/model.py, no time embedding):
/// h = conv1(SiLU(norm1(x))); h = conv2(SiLU(norm2(h))); out = nin_shortcut(x) + h (1×1, only when channels change).
/// </summary>
internal sealed class VaeResnetBlock
{
    private readonly Tensor _norm1W, _norm1B, _conv1W, _conv1B, _norm2W, _norm2B, _conv2W, _conv2B;
    private readonly Tensor? _shortW, _shortB;

    public VaeResnetBlock(WeightStore w, string p, int inChannels)
    {
        OutChannels = w.DimsOf(p + "conv1.weight")[0];
        int o = OutChannels;
        _norm1W = w.Get(p + "norm1.weight", inChannels);
        _norm1B = w.Get(p + "norm1.bias", inChannels);
        _conv1W = w.Get(p + "conv1.weight", o, inChannels, 3, 3);
        _conv1B = w.Get(p + "conv1.bias", o);
        _norm2W = w.Get(p + "norm2.weight", o);
        _norm2B = w.Get(p + "norm2.bias", o);
        _conv2W = w.Get(p + "conv2.weight", o, o, 3, 3);
        _conv2B = w.Get(p + "conv2.bias", o);
        if (inChannels != o || w.Contains(p + "nin_shortcut.weight"))
        {
            _shortW = w.Get(p + "nin_shortcut.weight", o, inChannels, 1, 1);
            _shortB = w.Get(p + "nin_shortcut.bias", o);
        }
    }

    public int OutChannels { get; }

    public Tensor Forward(IBackend b, Tensor x)
    {
        using var scope = TensorScope.Open();
        var h = b.Conv2d(b.GroupNorm(x, SdxlVae.Groups, _norm1W, _norm1B, SdxlVae.NormEps, silu: true), _conv1W, _conv1B, 1, 1);
        h = b.Conv2d(b.GroupNorm(h, SdxlVae.Groups, _norm2W, _norm2B, SdxlVae.NormEps, silu: true), _conv2W, _conv2B, 1, 1);
        var skip = _shortW is null ? x : b.Conv2d(x, _shortW, _shortB, 1, 0);
        return scope.MoveToOuter(b.Add(skip, h));
    }
}

/// <summary>
/// The mid-block AttnBlock: GN, then q, k, v as 1×1 convs (linear over channels), one head over all H·W tokens
/// with the full width (scale C^-1/2), proj_out, and a residual add.
/// </summary>
internal sealed class VaeAttnBlock
{
    private readonly Tensor _normW, _normB, _qW, _qB, _kW, _kB, _vW, _vB, _outW, _outB;

    public VaeAttnBlock(WeightStore w, string p, int channels)
    {
        _normW = w.Get(p + "norm.weight", channels);
        _normB = w.Get(p + "norm.bias", channels);
        _qW = w.GetLinear(p + "q.weight", channels, channels);
        _qB = w.Get(p + "q.bias", channels);
        _kW = w.GetLinear(p + "k.weight", channels, channels);
        _kB = w.Get(p + "k.bias", channels);
        _vW = w.GetLinear(p + "v.weight", channels, channels);
        _vB = w.Get(p + "v.bias", channels);
        _outW = w.GetLinear(p + "proj_out.weight", channels, channels);
        _outB = w.Get(p + "proj_out.bias", channels);
    }

    public Tensor Forward(IBackend b, Tensor x)
    {
        using var scope = TensorScope.Open();
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), wd = x.Dim(3);
        var nhwc = b.Permute(b.GroupNorm(x, SdxlVae.Groups, _normW, _normB, SdxlVae.NormEps, silu: false), 0, 2, 3, 1);
        var tokens = b.Reshape(nhwc, n, h * wd, c);
        var a = b.Attention(b.Linear(tokens, _qW, _qB), b.Linear(tokens, _kW, _kB), b.Linear(tokens, _vW, _vB), heads: 1, causal: false);
        var back = b.Permute(b.Reshape(b.Linear(a, _outW, _outB), n, h, wd, c), 0, 3, 1, 2);
        return scope.MoveToOuter(b.Add(x, back));
    }
}
