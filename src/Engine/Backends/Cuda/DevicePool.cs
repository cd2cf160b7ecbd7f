using LayerDiffusion.Native.Interop;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>
/// A caching allocator for device memory: blocks are rounded to size classes and returned blocks are kept for reuse,
/// so a denoising step allocates from the driver only on its first run. Reuse is safe because all work is ordered on
/// one stream: a block handed out again is only touched by work enqueued after the work that last used it.
/// Tracks bytes in use and their peak (what the arena would need at least).
/// </summary>
public sealed class DevicePool : IDisposable
{
    private readonly CudaDevice _device;
    private readonly Dictionary<long, Stack<DeviceMemory>> _free = new();
    // Blocks handed out stay referenced here, so a block is never finalized (freed) while a tensor's buffer,
    // itself being finalized, is about to return it.
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

    public DeviceMemory Rent(long bytes, bool weight)
    {
        long size = RoundSize(bytes);
        DeviceMemory? block = TakeCached(size);
        if (block is null)
        {
            try
            {
                block = new DeviceMemory(_device, size);
            }
            catch (LdException) when (!_disposed)
            {
                // Tensors nobody disposed may still hold memory: let their finalizers return it, then retry from the
                // cache, then give all cached blocks back to the driver and retry there. The last failure says
                // how much was requested and how much is free.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                block = TakeCached(size);
                if (block is null)
                {
                    ReleaseCached();
                    block = new DeviceMemory(_device, size);
                }
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

    /// <summary>Takes a block back (any thread, including the finalizer thread).</summary>
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

    public void Dispose()
    {
        lock (_lock) _disposed = true;
        ReleaseCached();
    }
}
