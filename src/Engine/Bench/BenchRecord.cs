namespace LayerDiffusion.Native.Bench;

/// <summary>
/// One measurement: a component at a shape, its median and spread over repeated runs, and peak memory.
/// <see cref="PeakBytes"/> is the backend allocator's peak over the timed runs on a GPU ("allocator"); the CPU has
/// no allocator of its own, so there it is the process's peak resident set since start ("process_peak_rss",
/// monotonic over a whole bench run). <see cref="DeviceUsedBytes"/> is total − free from cuMemGetInfo after the
/// runs (context and library workspaces included); 0 where not applicable.
/// </summary>
public sealed record BenchRecord(
    string Name,
    string Shape,
    string DType,
    string Device,
    string Driver,
    int Runs,
    double MedianMs,
    double P10Ms,
    double P90Ms,
    long PeakBytes,
    long DeviceUsedBytes,
    string Commit,
    string? Note = null,
    string PeakSource = "allocator")
{
    /// <summary>The key a reference record must share to be compared with this one.</summary>
    public string Key => Name + " | " + Shape;
}
