using System.Diagnostics;
using LayerDiffusion.Native.Backends;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// Times a piece of work: warm-up runs first, then repeated timed runs; reports median, p10 and p90. On a backend
/// with diagnostics the time comes from the device (CUDA events) and the peak from its allocator; elsewhere from a
/// stopwatch, and the work must end on a host read so queued device work is inside the measurement
/// (<see cref="BenchContext.Finish"/> does that). Each measurement is wrapped in an NVTX range when libnvToolsExt
/// is there, so Nsight Systems shows the phases by name.
/// </summary>
public sealed class BenchRunner(IBackend backend, int warmup, int runs, TextWriter? log = null)
{
    private readonly IBackendDiagnostics? _diag = backend as IBackendDiagnostics;
    public List<BenchRecord> Records { get; } = new();

    public int Warmup => warmup;
    public int Runs => runs;
    public string DeviceName => _diag?.DeviceName ?? $"CPU ({Environment.ProcessorCount} threads)";
    public string Driver => _diag?.Driver ?? "";

    /// <param name="maxRuns">caps the timed runs for work that takes seconds (model load, patch merge, a whole generation)</param>
    /// <param name="minWarmup">at least this many warm-up runs (work whose first run fills caches the later ones reuse)</param>
    /// <param name="timedOn">the backend whose stream the work runs on, when not the runner's (the VAE's fp32 sibling)</param>
    public BenchRecord Measure(string name, string shape, string dtype, Action work, string? note = null, int? maxRuns = null, int minWarmup = 0,
        IBackend? timedOn = null)
    {
        var clock = timedOn as IBackendDiagnostics ?? _diag;
        int n = Math.Max(1, maxRuns is { } cap ? Math.Min(runs, cap) : runs);
        int w = Math.Max(warmup, minWarmup);
        using var range = Nvtx.Range($"{name} {shape}");
        for (int i = 0; i < w; i++) work();
        _diag?.ResetPeak();
        var times = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (clock is not null) times[i] = clock.TimeMs(work);
            else
            {
                var sw = Stopwatch.StartNew();
                work();
                times[i] = sw.Elapsed.TotalMilliseconds;
            }
        }
        Array.Sort(times);
        var (free, total) = _diag?.MemoryInfo() ?? (0, 0);
        long peak = _diag?.PeakBytes ?? Process.GetCurrentProcess().PeakWorkingSet64;
        var r = new BenchRecord(name, shape, dtype, DeviceName, Driver, n, Percentile(times, 0.5), Percentile(times, 0.1),
            Percentile(times, 0.9), peak, total - free, BuildInfo.Commit, note, _diag is null ? "process_peak_rss" : "allocator");
        Records.Add(r);
        log?.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{name,-24} {shape,-28} median {r.MedianMs,10:F3} ms  p10 {r.P10Ms,10:F3}  p90 {r.P90Ms,10:F3}  peak {r.PeakBytes / 1048576.0,9:F1} MiB"));
        return r;
    }

    /// <summary>Sets the note of the latest record (for what is only known after the runs).</summary>
    public void AnnotateLast(string note) => Records[^1] = Records[^1] with { Note = note };

    /// <summary>Linear interpolation between order statistics (numpy's default) of an ascending array.</summary>
    public static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
