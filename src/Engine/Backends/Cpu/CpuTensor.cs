using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>An fp32 tensor in a managed array (the reference backend's storage).</summary>
public sealed class CpuTensor : Tensor
{
    public CpuTensor(CpuBackend backend, float[] data, int[] shape) : base(backend, shape)
    {
        if (data.Length != Tensors.Shape.Count(shape))
            throw new ArgumentException($"{data.Length} elements for shape {Tensors.Shape.Format(shape)}");
        Data = data;
    }

    public float[] Data { get; }
    public Span<float> Span => Data;
}
