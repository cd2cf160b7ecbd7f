using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>What kind of parameter a tensor is, so synthetic weights get sensible magnitudes.</summary>
public enum ParamKind { Weight, Bias, NormWeight, NormBias, Embedding, Index, Scalar }

/// <summary>One tensor of a model file: its key, shape, stored dtype and role.</summary>
public sealed record TensorSpec(string Name, int[] Shape, ParamKind Kind, DType DType = DType.F16);

/// <summary>A growing list of tensor specs, with helpers for the building blocks every layout repeats.</summary>
public sealed class TensorLayout
{
    public List<TensorSpec> Tensors { get; } = new();

    public void Add(string name, ParamKind kind, params int[] shape) => Tensors.Add(new TensorSpec(name, shape, kind));
    public void Add(string name, ParamKind kind, DType dtype, params int[] shape) => Tensors.Add(new TensorSpec(name, shape, kind, dtype));

    public void Linear(string p, int outF, int inF, bool bias = true)
    {
        Add(p + ".weight", ParamKind.Weight, outF, inF);
        if (bias) Add(p + ".bias", ParamKind.Bias, outF);
    }

    public void Conv(string p, int outC, int inC, int k, bool bias = true)
    {
        Add(p + ".weight", ParamKind.Weight, outC, inC, k, k);
        if (bias) Add(p + ".bias", ParamKind.Bias, outC);
    }

    public void Norm(string p, int c)
    {
        Add(p + ".weight", ParamKind.NormWeight, c);
        Add(p + ".bias", ParamKind.NormBias, c);
    }
}
