using LayerDiffusion.Native.Interop;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>
/// A caching allocator for device memory: blocks are rounded to size classes and returned blocks are kept for reuse,
/// so a denoising step allocates from the driver only on its first run. Reuse is safe because all work is ordered on
/// one stream: a block handed out again is only touched by work enqueued after the work that last used it.
/// Tracks bytes in use and their peak (what the arena would need at least).
/// </summary>
/// <remarks>
/// Deterministic: blocks come back only when tensors are disposed (no finalizers, no garbage collection), and each
/// size class hands out its most recently returned block first, so the same sequence of requests gets the same
/// blocks in the same order and reaches the same peak, to the byte. CUDA graph capture relies on this: a captured
/// forward pass replays against the addresses it was captured with.
/// </remarks>
public sealed class DevicePool : IDisposable
{
    private readonly CudaDevice _device;
    private readonly Dictionary<long, Stack<DeviceMemory>> _free = new();
    private readonly HashSet<DeviceMemory> _rented = new(ReferenceEqualityComparer.Instance);
    private readonly object _lock = new();
    private long _inUse, _peak, _cached, _weights;
    private bool _disposed;

    public DevicePool(CudaDevice device) => _device = device;

    /// <summary>Bytes handed out now (rounded sizes), the most ever at once, and bytes kept free for reuse.</summary>
    public long InUseBytes { get { lock (_lock) return _inUse; } }
    public long PeakBytes { get { lock (_lock) return _peak; } }
    public long CachedBytes { get { lock (_lock) return _cached; } }
    /// <summary>Of <see cref="InUseBytes"/>, how much holds weights.</summary>
    public long WeightBytes { get { lock (_lock) return _weights; } }

    public void ResetPeak() { lock (_lock) _peak = _inUse; }

    /// <summary>Size classes: 512-byte steps up to 1 MiB, then 8 classes per power of two (under 12.5% slack).</summary>
    public static long RoundSize(long bytes)
    {
        bytes = Math.Max(bytes, 1);
        if (bytes <= 1 << 20) return (bytes + 511) & ~511L;
        int log = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)bytes);
        long step = 1L << (log - 3);
        return (bytes + step - 1) / step * step;
    }

    /// <summary>
    /// A block of at least <paramref name="bytes"/>: a cached one of its size class, else a new one from the driver.
    /// When the driver is out of memory, every cached block is given back and the allocation retried once; the
    /// second failure is the out-of-memory error naming the bytes requested and free.
    /// </summary>
    public DeviceMemory Rent(long bytes, bool weight)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long size = RoundSize(bytes);
        var block = TakeCached(size);
        if (block is null)
        {
            try
            {
                block = new DeviceMemory(_device, size);
            }
            catch (LdException) when (CachedBytes > 0)
            {
                ReleaseCached();
                block = new DeviceMemory(_device, size);
            }
        }
        lock (_lock)
        {
            _rented.Add(block);
            _inUse += size;
            if (weight) _weights += size;
            if (_inUse > _peak) _peak = _inUse;
        }
        return block;
    }

    private DeviceMemory? TakeCached(long size)
    {
        lock (_lock)
        {
            if (!_free.TryGetValue(size, out var stack) || stack.Count == 0) return null;
            _cached -= size;
            return stack.Pop();
        }
    }

    /// <summary>Takes a block back for reuse (freed to the driver once the pool is disposed).</summary>
    public void Return(DeviceMemory block, bool weight)
    {
        lock (_lock)
        {
            if (!_rented.Remove(block)) return;
            _inUse -= block.Bytes;
            if (weight) _weights -= block.Bytes;
            if (_disposed) { block.Dispose(); return; }
            if (!_free.TryGetValue(block.Bytes, out var stack)) _free[block.Bytes] = stack = new Stack<DeviceMemory>();
            stack.Push(block);
            _cached += block.Bytes;
        }
    }

    /// <summary>Gives every cached (free) block back to the driver.</summary>
    public void ReleaseCached()
    {
        lock (_lock)
        {
            foreach (var s in _free.Values)
                while (s.Count > 0) s.Pop().Dispose();
            _free.Clear();
            _cached = 0;
        }
    }

    /// <summary>Frees every block, cached or still handed out (the backend, and with it every tensor, is gone).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var b in _rented) b.Dispose();
            _rented.Clear();
            _inUse = _weights = 0;
        }
        ReleaseCached();
    }
}
