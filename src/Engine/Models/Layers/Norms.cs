namespace LayerDiffusion.Native.Models.Layers;

/// <summary>GroupNorm over [N, C, ...] with per-channel "weight" and "bias", optionally with SiLU fused after it.</summary>
public sealed class GroupNorm(WeightSource vs, int channels, int groups, float eps)
{
    public int Groups { get; } = groups > 0 && channels % groups == 0 ? groups
        : throw vs.Error("weight", $"{channels} channels cannot form {groups} GroupNorm groups");
    public float Eps { get; } = eps;
    public Tensor Gamma { get; } = vs.Get("weight", ParamKind.NormWeight, channels);
    public Tensor Beta { get; } = vs.Get("bias", ParamKind.NormBias, channels);

    public Tensor Forward(IBackend b, Tensor x, bool silu = false) => b.GroupNorm(x, Groups, Gamma, Beta, Eps, silu);

    /// <summary>GroupNorm(x + add[:, :, None, None]) without storing the sum (a resnet's time embedding).</summary>
    public Tensor ForwardAdd(IBackend b, Tensor x, Tensor add, bool silu = false) => b.GroupNormAdd(x, add, Groups, Gamma, Beta, Eps, silu);
}

/// <summary>LayerNorm over the last axis with "weight" and "bias".</summary>
public sealed class LayerNorm(WeightSource vs, int width, float eps)
{
    public float Eps { get; } = eps;
    public Tensor Gamma { get; } = vs.Get("weight", ParamKind.NormWeight, width);
    public Tensor Beta { get; } = vs.Get("bias", ParamKind.NormBias, width);

    public Tensor Forward(IBackend b, Tensor x) => b.LayerNorm(x, Gamma, Beta, Eps);
}
