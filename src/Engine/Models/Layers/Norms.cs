namespace LayerDiffusion.Native.Models.Layers;

/// <summary>GroupNorm over [N, C, ...] with per-channel "weight" and "bias", optionally with SiLU fused after it.</summary>
public sealed class GroupNorm
{
    public GroupNorm(WeightSource vs, int channels, int groups, float eps)
    {
        if (groups <= 0 || channels % groups != 0) throw vs.Error("weight", $"{channels} channels cannot form {groups} GroupNorm groups");
        Groups = groups;
        Eps = eps;
        Gamma = vs.Get("weight", ParamKind.NormWeight, channels);
        Beta = vs.Get("bias", ParamKind.NormBias, channels);
    }

    public int Groups { get; }
    public float Eps { get; }
    public Tensor Gamma { get; }
    public Tensor Beta { get; }

    public Tensor Forward(IBackend b, Tensor x, bool silu = false) => b.GroupNorm(x, Groups, Gamma, Beta, Eps, silu);

    /// <summary>GroupNorm(x + add[:, :, None, None]) without storing the sum (a resnet's time embedding).</summary>
    public Tensor ForwardAdd(IBackend b, Tensor x, Tensor add, bool silu = false) => b.GroupNormAdd(x, add, Groups, Gamma, Beta, Eps, silu);
}

/// <summary>LayerNorm over the last axis with "weight" and "bias".</summary>
public sealed class LayerNorm
{
    public LayerNorm(WeightSource vs, int width, float eps)
    {
        Eps = eps;
        Gamma = vs.Get("weight", ParamKind.NormWeight, width);
        Beta = vs.Get("bias", ParamKind.NormBias, width);
    }

    public float Eps { get; }
    public Tensor Gamma { get; }
    public Tensor Beta { get; }

    public Tensor Forward(IBackend b, Tensor x) => b.LayerNorm(x, Gamma, Beta, Eps);
}
