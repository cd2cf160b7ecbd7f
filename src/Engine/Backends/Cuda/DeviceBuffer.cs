using LayerDiffusion.Native.Interop;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>
/// A pooled device block shared by the tensors that view it (a reshape shares its input's buffer). Each tensor holds
/// one reference; the last release returns the block to the pool. There is no finalizer: memory comes back when the
/// tensors are disposed (by their <see cref="Tensors.TensorScope"/> or their owner), at the same point of every run.
/// </summary>
internal sealed class DeviceBuffer
{
    private readonly DevicePool _pool;
    private readonly DeviceMemory _block;
    private readonly bool _weight;
    private int _refs = 1;

    public DeviceBuffer(DevicePool pool, long bytes, bool weight)
    {
        _pool = pool;
        _weight = weight;
        _block = pool.Rent(bytes, weight);
        Bytes = bytes;
    }

    public long Bytes { get; }
    public ulong Ptr => _block.Ptr;

    public void AddRef() => Interlocked.Increment(ref _refs);

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0) _pool.Return(_block, _weight);
    }
}
