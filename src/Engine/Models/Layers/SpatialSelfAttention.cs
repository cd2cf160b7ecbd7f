namespace LayerDiffusion.Native.Models.Layers;

/// <summary>Where a spatial attention block's parts live: its GroupNorm and its attention's projections.</summary>
public sealed record SpatialAttentionNames(string Norm, AttentionNames Attention)
{
    /// <summary>ldm/sgm AttnBlock (the autoencoder's mid block; q, k, v and proj_out stored as 1×1 convs).</summary>
    public static SpatialAttentionNames Autoencoder { get; } = new("norm", new AttentionNames("q", "k", "v", "proj_out"));
    /// <summary>diffusers Attention in its "deprecated attention block" form (the transparent decoder).</summary>
    public static SpatialAttentionNames Diffusers { get; } = new("group_norm", AttentionNames.Sgm);
}

/// <summary>
/// Self-attention over the H·W positions of an image: GroupNorm, an <see cref="Attention"/> with bias on every
/// projection over the channels, and a residual add.
/// </summary>
public sealed class SpatialSelfAttention
{
    private readonly GroupNorm _norm;
    private readonly Attention _attention;

    public SpatialSelfAttention(WeightSource vs, SpatialAttentionNames names, int channels, int groups, float eps, AttentionHeads heads, bool storedAsConv)
    {
        int count = heads.For(channels) ?? throw vs.Error(names.Attention.Q + ".weight", $"{channels} channels do not split into {heads}");
        _norm = new GroupNorm(vs.Pp(names.Norm), channels, groups, eps);
        _attention = new Attention(vs, names.Attention, channels, channels, count, qkvBias: true, causal: false, storedAsConv);
    }

    /// <param name="x">[B, C, H, W]</param>
    public Tensor Forward(IBackend b, Tensor x)
    {
        using var scope = TensorScope.Open();
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var tokens = b.Reshape(b.Permute(_norm.Forward(b, x), 0, 2, 3, 1), n, h * w, c);
        var back = b.Permute(b.Reshape(_attention.Forward(b, tokens), n, h, w, c), 0, 3, 1, 2);
        return scope.MoveToOuter(b.Add(x, back));
    }
}
