namespace LayerDiffusion.Native.Backends;

/// <summary>
/// Optional backend capabilities for benchmarks and reports: device identity, device-side timing (CUDA events on
/// the GPU, a stopwatch on the CPU) and peak memory of the backend's own allocator.
/// </summary>
public interface IBackendDiagnostics
{
    string DeviceName { get; }
    string Driver { get; }
    /// <summary>Wall time of the work as the device sees it, in milliseconds (the work is synchronised).</summary>
    double TimeMs(Action work);
    /// <summary>Peak bytes held by the backend's allocator since the last reset.</summary>
    long PeakBytes { get; }
    void ResetPeak();
    /// <summary>Bytes the allocator has handed out now, weights included.</summary>
    long InUseBytes { get; }
    /// <summary>Bytes of the allocator's memory now holding weights (the VRAM goal: peak ≤ weights + 10%).</summary>
    long WeightBytes { get; }
    /// <summary>(free, total) device memory as the driver reports it; (0, 0) where not applicable.</summary>
    (long Free, long Total) MemoryInfo();
}
