using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>One tensor of a model file: its key, shape, stored dtype and role.</summary>
public sealed record TensorSpec(string Name, int[] Shape, ParamKind Kind, DType DType = DType.F16);

/// <summary>A growing list of tensor specs (recorded from the networks' constructors by LayoutRecorder).</summary>
public sealed class TensorLayout
{
    public List<TensorSpec> Tensors { get; } = new();

    public void Add(string name, ParamKind kind, params int[] shape) => Tensors.Add(new TensorSpec(name, shape, kind));
    public void Add(string name, ParamKind kind, DType dtype, params int[] shape) => Tensors.Add(new TensorSpec(name, shape, kind, dtype));
}
