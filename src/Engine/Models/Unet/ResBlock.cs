using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Unet;

/// <summary>
/// The UNet's ResBlock (sgm openaimodel.ResBlock, no scale-shift norm):
/// h = conv3x3(SiLU(GN(x))); h += Linear(SiLU(emb))[:, :, None, None]; h = conv3x3(SiLU(GN(h))); out = skip(x) + h,
/// with skip a 1×1 conv when the channel count changes. GroupNorm32: 32 groups, eps 1e-5.
/// </summary>
internal sealed class ResBlock
{
    private const int Groups = 32;
    private const float Eps = 1e-5f;

    private readonly Tensor _norm1W, _norm1B, _conv1W, _conv1B, _embW, _embB, _norm2W, _norm2B, _conv2W, _conv2B;
    private readonly Tensor? _skipW, _skipB;

    public ResBlock(WeightStore w, string p, int inChannels, int outChannels, int embDim)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        _norm1W = w.Get(p + "in_layers.0.weight", inChannels);
        _norm1B = w.Get(p + "in_layers.0.bias", inChannels);
        _conv1W = w.Get(p + "in_layers.2.weight", outChannels, inChannels, 3, 3);
        _conv1B = w.Get(p + "in_layers.2.bias", outChannels);
        _embW = w.Get(p + "emb_layers.1.weight", outChannels, embDim);
        _embB = w.Get(p + "emb_layers.1.bias", outChannels);
        _norm2W = w.Get(p + "out_layers.0.weight", outChannels);
        _norm2B = w.Get(p + "out_layers.0.bias", outChannels);
        _conv2W = w.Get(p + "out_layers.3.weight", outChannels, outChannels, 3, 3);
        _conv2B = w.Get(p + "out_layers.3.bias", outChannels);
        if (inChannels != outChannels || w.Contains(p + "skip_connection.weight"))
        {
            _skipW = w.Get(p + "skip_connection.weight", outChannels, inChannels, 1, 1);
            _skipB = w.Get(p + "skip_connection.bias", outChannels);
        }
    }

    public int InChannels { get; }
    public int OutChannels { get; }

    /// <param name="x">[B, In, H, W]</param>
    /// <param name="embSilu">SiLU(emb) [B, E], shared by every ResBlock of one forward pass.</param>
    public Tensor Forward(IBackend b, Tensor x, Tensor embSilu)
    {
        using var scope = TensorScope.Open();
        var h = b.Conv2d(b.GroupNorm(x, Groups, _norm1W, _norm1B, Eps, silu: true), _conv1W, _conv1B, 1, 1);
        var e = b.Linear(embSilu, _embW, _embB);
        // GN(h + emb[:, :, None, None]) in one kernel: the time-embedding add folded into the norm.
        h = b.Conv2d(b.GroupNormAdd(h, e, Groups, _norm2W, _norm2B, Eps, silu: true), _conv2W, _conv2B, 1, 1);
        var skip = _skipW is null ? x : b.Conv2d(x, _skipW, _skipB, 1, 0);
        return scope.MoveToOuter(b.Add(skip, h));
    }
}
