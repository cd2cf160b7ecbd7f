namespace LayerDiffusion.Native.Models.Layers;

/// <summary>A square convolution with bias, "weight" [out, in, k, k] and "bias" [out]; padding k / 2 unless given.</summary>
public sealed class Conv2d(WeightSource vs, int inChannels, int outChannels, int kernel, int stride = 1, int? padding = null)
{
    public int Stride { get; } = stride;
    public int Padding { get; } = padding ?? kernel / 2;
    public Tensor Weight { get; } = vs.Get("weight", ParamKind.Weight, outChannels, inChannels, kernel, kernel);
    public Tensor Bias { get; } = vs.Get("bias", ParamKind.Bias, outChannels);

    public Tensor Forward(IBackend b, Tensor x) => b.Conv2d(x, Weight, Bias, Stride, Padding);

    /// <summary>Forward(x) + residual, the add done in the convolution's epilogue (a resnet's skip connection).</summary>
    public Tensor ForwardAdd(IBackend b, Tensor x, Tensor residual) => b.Conv2dAdd(x, Weight, Bias, Stride, Padding, residual);
}
