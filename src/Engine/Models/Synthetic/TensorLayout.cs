using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>One tensor of a model file: its key, shape and role, which fixes its stored dtype.</summary>
public sealed record TensorSpec(string Name, int[] Shape, ParamKind Kind)
{
    /// <summary>Index buffers (CLIP's position ids) are int64; every float tensor is stored as fp16.</summary>
    public DType DType => Kind == ParamKind.Index ? DType.I64 : DType.F16;
}

/// <summary>A growing list of tensor specs (recorded from the networks' constructors by LayoutRecorder).</summary>
public sealed class TensorLayout
{
    public List<TensorSpec> Tensors { get; } = new();

    public void Add(string name, ParamKind kind, params int[] shape) => Tensors.Add(new TensorSpec(name, shape, kind));
}
