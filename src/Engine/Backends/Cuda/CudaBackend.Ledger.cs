using LayerDiffusion.Native.Backends.Ledger;
using LayerDiffusion.Native.Interop;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>
/// The cost ledger's view of the launch path (<see cref="IOpInstrumentation"/>): launches counted where they are
/// issued, and per-op CUDA events on this backend's stream.
/// </summary>
public sealed partial class CudaBackend : IOpInstrumentation
{
    /// <summary>cuBLASLt matmuls and cuDNN convolution calls issued so far (the plain-kernel GEMM fallback is a kernel launch instead).</summary>
    public long LibraryCalls { get; private set; }

    public long Launches => KernelLaunches + LibraryCalls;

    public IOpClock CreateOpClock() => new CudaEventClock(_device, _stream);
}

/// <summary>
/// Marks as CUDA events recorded on one stream; the events are created as the marks of a round first need them and
/// reused by later rounds, so a steady-state round creates none.
/// </summary>
internal sealed class CudaEventClock(CudaDevice device, CudaStream stream) : IOpClock
{
    private readonly List<CudaEvent> _events = new();
    private int _used;

    public int Mark()
    {
        device.MakeCurrent();
        if (_used == _events.Count) _events.Add(new CudaEvent(device));
        _events[_used].Record(stream);
        return _used++;
    }

    public double ElapsedMs(int from, int to)
    {
        device.MakeCurrent();
        return _events[from].ElapsedMs(_events[to]);
    }

    public void Reset() => _used = 0;

    public void Dispose()
    {
        foreach (var e in _events) e.Dispose();
        _events.Clear();
        _used = 0;
    }
}
