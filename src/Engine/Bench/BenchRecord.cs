namespace LayerDiffusion.Native.Bench;

/// <summary>One measurement: a component at a shape, its median and spread over repeated runs, and peak memory.</summary>
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
    string? Note = null);
