namespace LayerDiffusion.Native.Backends.Ledger;

/// <summary>
/// What a device backend tells the cost ledger beyond the analytic counts of <see cref="OpCosts"/>: how many
/// launches it has issued so far (from its launch path), and a clock on its stream for per-op times. The CPU
/// backend has neither: its ops launch nothing (the ledger reports null launches there) and run synchronously, so
/// a stopwatch times them.
/// </summary>
public interface IOpInstrumentation
{
    /// <summary>
    /// Kernel launches plus library calls (one per cuBLASLt matmul or cuDNN convolution call: the kernels a library
    /// runs inside a call are not visible without CUPTI) issued so far. Memory copies are not launches.
    /// </summary>
    long Launches { get; }

    /// <summary>A clock whose marks are taken on this backend's stream (CUDA events); the caller disposes it.</summary>
    IOpClock CreateOpClock();
}

/// <summary>
/// Timestamps taken in the order work is issued: <see cref="Mark"/> right before and right after an op, then
/// <see cref="ElapsedMs"/> between two marks once the work is done (a device clock waits for it).
/// </summary>
public interface IOpClock : IDisposable
{
    /// <summary>Takes a mark now (on a GPU: records an event on the stream) and returns its index.</summary>
    int Mark();
    /// <summary>Milliseconds between two marks of the current round.</summary>
    double ElapsedMs(int from, int to);
    /// <summary>Starts a new round: mark indices begin at 0 again (the marks' storage is reused).</summary>
    void Reset();
}

/// <summary>The host's clock: for synchronous backends (the CPU), where an op is done when its call returns.</summary>
public sealed class StopwatchOpClock : IOpClock
{
    private readonly List<long> _ticks = new();

    public int Mark()
    {
        _ticks.Add(System.Diagnostics.Stopwatch.GetTimestamp());
        return _ticks.Count - 1;
    }

    public double ElapsedMs(int from, int to) =>
        System.Diagnostics.Stopwatch.GetElapsedTime(_ticks[from], _ticks[to]).TotalMilliseconds;

    public void Reset() => _ticks.Clear();

    public void Dispose() { }
}
