namespace LayerDiffusion.Native.Models.Layers;

/// <summary>Where a spatial attention block's parts live.</summary>
public sealed record SpatialAttentionNames(string Norm, string Q, string K, string V, string Out)
{
    /// <summary>ldm/sgm AttnBlock (the autoencoder's mid block; q, k, v and proj_out stored as 1×1 convs).</summary>
    public static SpatialAttentionNames Autoencoder { get; } = new("norm", "q", "k", "v", "proj_out");
    /// <summary>diffusers Attention in its "deprecated attention block" form (the transparent decoder).</summary>
    public static SpatialAttentionNames Diffusers { get; } = new("group_norm", "to_q", "to_k", "to_v", "to_out.0");
}

/// <summary>
/// Self-attention over the H·W positions of an image: GroupNorm, q/k/v/out projections with bias over the channels,
/// multi-head attention, and a residual add.
/// </summary>
public sealed class SpatialSelfAttention
{
    private readonly GroupNorm _norm;
    private readonly Linear _q, _k, _v, _out;
    private readonly int _heads;

    public SpatialSelfAttention(WeightSource vs, SpatialAttentionNames names, int channels, int groups, float eps, AttentionHeads heads, bool storedAsConv)
    {
        _heads = heads.For(channels) ?? throw vs.Error(names.Q + ".weight", $"{channels} channels do not split into {heads}");
        _norm = new GroupNorm(vs.Pp(names.Norm), channels, groups, eps);
        _q = new Linear(vs.Pp(names.Q), channels, channels, storedAsConv: storedAsConv);
        _k = new Linear(vs.Pp(names.K), channels, channels, storedAsConv: storedAsConv);
        _v = new Linear(vs.Pp(names.V), channels, channels, storedAsConv: storedAsConv);
        _out = new Linear(vs.Pp(names.Out), channels, channels, storedAsConv: storedAsConv);
    }

    /// <param name="x">[B, C, H, W]</param>
    public Tensor Forward(IBackend b, Tensor x)
    {
        using var scope = TensorScope.Open();
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var tokens = b.Reshape(b.Permute(_norm.Forward(b, x), 0, 2, 3, 1), n, h * w, c);
        var a = b.Attention(_q.Forward(b, tokens), _k.Forward(b, tokens), _v.Forward(b, tokens), _heads, causal: false);
        var back = b.Permute(b.Reshape(_out.Forward(b, a), n, h, w, c), 0, 3, 1, 2);
        return scope.MoveToOuter(b.Add(x, back));
    }
}
