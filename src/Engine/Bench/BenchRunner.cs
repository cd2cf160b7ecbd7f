using System.Diagnostics;
using LayerDiffusion.Native.Backends;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// Times a piece of work: warm-up runs first, then repeated timed runs; reports median, p10 and p90. On a backend
/// with diagnostics the time comes from the device (CUDA events) and the peak from its allocator.
/// </summary>
public sealed class BenchRunner(IBackend backend, int warmup, int runs, TextWriter? log = null)
{
    private readonly IBackendDiagnostics? _diag = backend as IBackendDiagnostics;
    public List<BenchRecord> Records { get; } = new();

    public string DeviceName => _diag?.DeviceName ?? $"CPU ({Environment.ProcessorCount} threads)";
    public string Driver => _diag?.Driver ?? "";

    public BenchRecord Measure(string name, string shape, string dtype, Action work, string? note = null)
    {
        for (int i = 0; i < warmup; i++) work();
        _diag?.ResetPeak();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            if (_diag is not null) times[i] = _diag.TimeMs(work);
            else
            {
                var sw = Stopwatch.StartNew();
                work();
                times[i] = sw.Elapsed.TotalMilliseconds;
            }
        }
        Array.Sort(times);
        var (free, total) = _diag?.MemoryInfo() ?? (0, 0);
        var r = new BenchRecord(name, shape, dtype, DeviceName, Driver, runs, Percentile(times, 0.5), Percentile(times, 0.1),
            Percentile(times, 0.9), _diag?.PeakBytes ?? GC.GetTotalMemory(false), total - free, BuildInfo.Commit, note);
        Records.Add(r);
        log?.WriteLine($"{name,-28} {shape,-24} median {r.MedianMs,10:F3} ms  p10 {r.P10Ms,10:F3}  p90 {r.P90Ms,10:F3}");
        return r;
    }

    /// <summary>Linear interpolation between order statistics (numpy's default).</summary>
    public static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
