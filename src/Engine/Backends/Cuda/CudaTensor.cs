using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>A tensor in device memory, stored as the backend's storage dtype (fp32, fp16 or bf16).</summary>
public sealed class CudaTensor : Tensor
{
    private DeviceBuffer? _buffer;

    internal CudaTensor(CudaBackend backend, DeviceBuffer buffer, DType dtype, int[] shape) : base(backend, shape)
    {
        _buffer = buffer;
        DType = dtype;
    }

    public DType DType { get; }

    /// <summary>Device address of element 0.</summary>
    public ulong Ptr => (_buffer ?? throw new ObjectDisposedException(ToString())).Ptr;

    internal DeviceBuffer Buffer => _buffer ?? throw new ObjectDisposedException(ToString());

    public long Bytes => (long)Count * DTypes.Size(DType);

    public override void Dispose() => Interlocked.Exchange(ref _buffer, null)?.Release();
}
