using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// An fp32 tensor in a managed array (the reference backend's storage). Disposing drops the array reference, so a
/// tensor used after its scope freed it fails here, on the reference backend the tests run, as it would on a GPU.
/// </summary>
public sealed class CpuTensor : Tensor
{
    private float[]? _data;

    public CpuTensor(CpuBackend backend, float[] data, int[] shape) : base(backend, shape)
    {
        if (data.Length != Tensors.Shape.Count(shape))
            throw new ArgumentException($"{data.Length} elements for shape {Tensors.Shape.Format(shape)}");
        _data = data;
    }

    public float[] Data => _data ?? throw new ObjectDisposedException(ToString(), "the tensor was disposed (its scope ended?)");
    public Span<float> Span => Data;

    public override void Dispose() => _data = null;
}
