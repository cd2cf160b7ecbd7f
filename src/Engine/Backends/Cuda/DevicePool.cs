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
    private readonly Dictionary<DeviceMemory, PoolArena> _arenaOf = new(ReferenceEqualityComparer.Instance);
    private PoolArena? _arena;
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
        var arena = weight ? null : _arena;
        var block = arena is null ? TakeCached(size) : TakeFromArena(arena, size);
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
            if (arena is not null && arena.Blocks.Add(block)) _arenaOf[block] = arena;
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

    /// <summary>An arena's free block of the size class, else (outside a capture) a new one from the driver.</summary>
    private DeviceMemory? TakeFromArena(PoolArena arena, long size)
    {
        lock (_lock)
        {
            if (arena.Free.TryGetValue(size, out var stack) && stack.Count > 0) return stack.Pop();
        }
        if (arena.Sealed)
            throw new LdException($"a CUDA graph capture needed {size} bytes of device memory its warm-up pass did not (the captured forward must request the same memory as the warm-up)");
        return null;
    }

    /// <summary>
    /// From now until <see cref="LeaveArena"/>, activations (not weights) come from <paramref name="arena"/> and go
    /// back to it: the memory a captured CUDA graph reads and writes belongs to the graph alone, so nothing allocated
    /// between its launches (the sampler's tensors, another network) can land in it.
    /// </summary>
    internal void EnterArena(PoolArena arena)
    {
        lock (_lock)
        {
            if (_arena is not null) throw new InvalidOperationException("an arena is already active on this pool");
            _arena = arena;
        }
    }

    internal void LeaveArena()
    {
        lock (_lock) _arena = null;
    }

    /// <summary>
    /// Frees the arena's free blocks to the driver (the stream must be idle); blocks still rented (a tensor kept
    /// beyond the graph) become ordinary pool blocks.
    /// </summary>
    internal void DisposeArena(PoolArena arena)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_arena, arena)) _arena = null;
            foreach (var block in arena.Blocks)
            {
                _arenaOf.Remove(block);
                if (!_rented.Contains(block)) block.Dispose();
            }
            arena.Blocks.Clear();
            arena.Free.Clear();
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
            if (_arenaOf.TryGetValue(block, out var arena))
            {
                if (!arena.Free.TryGetValue(block.Bytes, out var own)) arena.Free[block.Bytes] = own = new Stack<DeviceMemory>();
                own.Push(block);
                return;
            }
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
            foreach (var a in _arenaOf.Values.Distinct().ToList())
            {
                foreach (var b in a.Free.Values.SelectMany(s => s)) b.Dispose();
                a.Free.Clear();
                a.Blocks.Clear();
            }
            _arenaOf.Clear();
            _inUse = _weights = 0;
        }
        ReleaseCached();
    }
}

/// <summary>
/// The device memory of one captured CUDA graph (see <see cref="DevicePool.EnterArena"/>): every block rented while
/// it was active, and which of them are free. Sealed while capturing: CUDA forbids allocation then, and the warm-up
/// pass before the capture has already rented every block the same forward needs.
/// </summary>
internal sealed class PoolArena
{
    public readonly HashSet<DeviceMemory> Blocks = new(ReferenceEqualityComparer.Instance);
    public readonly Dictionary<long, Stack<DeviceMemory>> Free = new();
    public bool Sealed { get; set; }
    public long Bytes => Blocks.Sum(b => b.Bytes);
}
