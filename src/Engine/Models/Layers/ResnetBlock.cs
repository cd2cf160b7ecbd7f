namespace LayerDiffusion.Native.Models.Layers;

/// <summary>Where a resnet block's parts live; the three checkpoint conventions spell them differently.</summary>
public sealed record ResnetNames(string Norm1, string Conv1, string Norm2, string Conv2, string Shortcut, string TimeEmbedding)
{
    /// <summary>ldm/sgm openaimodel.ResBlock (the UNet).</summary>
    public static ResnetNames Ldm { get; } = new("in_layers.0", "in_layers.2", "out_layers.0", "out_layers.3", "skip_connection", "emb_layers.1");
    /// <summary>ldm/sgm diffusionmodules/model.py ResnetBlock (the autoencoder).</summary>
    public static ResnetNames Autoencoder { get; } = new("norm1", "conv1", "norm2", "conv2", "nin_shortcut", "temb_proj");
    /// <summary>diffusers ResnetBlock2D (the transparent decoder).</summary>
    public static ResnetNames Diffusers { get; } = new("norm1", "conv1", "norm2", "conv2", "conv_shortcut", "time_emb_proj");

    /// <summary>The parts in one fixed order, so two conventions' names pair up.</summary>
    public IEnumerable<string> Parts => [Norm1, Conv1, Norm2, Conv2, Shortcut, TimeEmbedding];
}

/// <summary>
/// The resnet block every network here uses: h = conv1(SiLU(norm1(x))); with a time embedding,
/// h += Linear(SiLU(emb))[:, :, None, None]; h = conv2(SiLU(norm2(h))); out = shortcut(x) + h, the shortcut a 1×1
/// conv when the width changes (or when the file has one). Each link is freed as soon as the next exists.
/// </summary>
/// <param name="embDim">Width of the time embedding, 0 for a block without one.</param>
public sealed class ResnetBlock(WeightSource vs, ResnetNames names, int inChannels, int outChannels, int groups, float eps, int embDim = 0)
{
    private readonly GroupNorm _norm1 = new(vs.Pp(names.Norm1), inChannels, groups, eps);
    private readonly Conv2d _conv1 = new(vs.Pp(names.Conv1), inChannels, outChannels, 3);
    private readonly Linear? _emb = embDim > 0 ? new(vs.Pp(names.TimeEmbedding), embDim, outChannels) : null;
    private readonly GroupNorm _norm2 = new(vs.Pp(names.Norm2), outChannels, groups, eps);
    private readonly Conv2d _conv2 = new(vs.Pp(names.Conv2), outChannels, outChannels, 3);
    private readonly Conv2d? _shortcut = inChannels != outChannels || vs.Has(names.Shortcut + ".weight")
        ? new(vs.Pp(names.Shortcut), inChannels, outChannels, 1) : null;

    /// <param name="x">[B, inChannels, H, W]</param>
    /// <param name="embSilu">SiLU(emb) [B, E] for a block with a time embedding (shared by every block of a pass).</param>
    public Tensor Forward(IBackend b, Tensor x, Tensor? embSilu = null)
    {
        using var scope = TensorScope.Open();
        // With a time embedding, norm2 normalises h + emb[:, :, None, None] in one kernel without storing the sum.
        Func<Tensor, Tensor> norm2 = _emb is null
            ? t => _norm2.Forward(b, t, silu: true)
            : t => _norm2.ForwardAdd(b, t, _emb.Forward(b, embSilu ?? throw new ArgumentException("this resnet block takes a time embedding")), silu: true);
        var h = TensorScope.Chain(x, t => _norm1.Forward(b, t, silu: true), t => _conv1.Forward(b, t), norm2);
        // The skip connection is added in conv2's epilogue.
        return scope.MoveToOuter(_conv2.ForwardAdd(b, h, _shortcut is null ? x : _shortcut.Forward(b, x)));
    }
}
