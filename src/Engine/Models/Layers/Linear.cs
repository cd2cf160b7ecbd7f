namespace LayerDiffusion.Native.Models.Layers;

/// <summary>y = x · Wᵀ (+ b) over the last axis; "weight" [out, in] (or a 1×1 convolution's [out, in, 1, 1]) and "bias" [out].</summary>
public sealed class Linear(WeightSource vs, int inFeatures, int outFeatures, bool bias = true, bool storedAsConv = false)
{
    public Tensor Weight { get; } = vs.GetLinear("weight", outFeatures, inFeatures, storedAsConv);
    public Tensor? Bias { get; } = bias ? vs.Get("bias", ParamKind.Bias, outFeatures) : null;

    public Tensor Forward(IBackend b, Tensor x) => b.Linear(x, Weight, Bias);

    /// <summary>Forward(x) + residual, the add done by the product's epilogue (a transformer's residual connection).</summary>
    public Tensor ForwardAdd(IBackend b, Tensor x, Tensor residual) => b.LinearAdd(x, Weight, Bias, residual);
}
