using System.Diagnostics;
using LayerDiffusion.Native.Backends.Ledger;
using LayerDiffusion.Native.Profiling;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// Times a piece of work: warm-up runs first, then repeated timed runs; reports every sample and their statistics. On a backend
/// with diagnostics the time comes from the device (CUDA events) and the peak from its allocator; elsewhere from a
/// stopwatch, and the work must end on a host read so queued device work is inside the measurement
/// (<see cref="BenchContext.Finish"/> does that). Each measurement is wrapped in an NVTX range when libnvToolsExt
/// is there, so Nsight Systems shows the phases by name.
/// </summary>
/// With a cost ledger (<paramref name="ledger"/>: the backend is a <see cref="RecordingBackend"/> feeding it), every run
/// is also one ledger round, and each measurement adds a record per op class after its own (<see cref="LedgerRecords"/>).
public sealed class BenchRunner(IBackend backend, int warmup, int runs, TextWriter? log = null, OpLedger? ledger = null)
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
    public BenchRecord Measure(string name, BenchParams parameters, string dtype, Action work, string? note = null, int? maxRuns = null, int minWarmup = 0,
        IBackend? timedOn = null)
    {
        var clock = timedOn as IBackendDiagnostics ?? _diag;
        int n = Math.Max(1, maxRuns is { } cap ? Math.Min(runs, cap) : runs);
        int w = Math.Max(warmup, minWarmup);
        using var range = Nvtx.Range($"{name} {parameters.ToShapeText()}");
        double TimeOnce()
        {
            if (clock is not null) return clock.TimeMs(work);
            var sw = Stopwatch.StartNew();
            work();
            return sw.Elapsed.TotalMilliseconds;
        }
        var warmRounds = new List<LedgerRound>();
        var rounds = new List<LedgerRound>();
        double Time(List<LedgerRound> into)
        {
            if (ledger is null) return TimeOnce();
            ledger.Begin();
            double ms;
            try { ms = TimeOnce(); }
            catch
            {
                ledger.Abort();
                throw;
            }
            into.Add(ledger.End());
            return ms;
        }
        var warm = new double[w];
        for (int i = 0; i < w; i++) warm[i] = BenchStats.R(Time(warmRounds));
        _diag?.ResetPeak();
        var times = new double[n];
        for (int i = 0; i < n; i++) times[i] = BenchStats.R(Time(rounds));
        var peaks = new List<BenchPeak>();
        if (_diag is not null)
        {
            peaks.Add(new BenchPeak(BenchPeak.Allocator, _diag.PeakBytes));
            var (free, total) = _diag.MemoryInfo();
            if (total > 0) peaks.Add(new BenchPeak(BenchPeak.DeviceUsed, total - free));
        }
        else peaks.Add(new BenchPeak(BenchPeak.ProcessPeakRss, Process.GetCurrentProcess().PeakWorkingSet64));
        var r = new BenchRecord
        {
            Name = name, Params = parameters, DType = dtype, Device = DeviceName, SamplesMs = times, WarmupSamplesMs = warm,
            Stats = BenchStats.Of(times), Warning = BenchStats.WarningFor(n), Peaks = peaks, Note = note, Commit = BuildInfo.Commit,
        };
        log?.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{name,-24} {r.Shape,-28} median {r.MedianMs,10:F3} ms  p10 {r.Stats.P10Ms,10:F3}  p90 {r.Stats.P90Ms,10:F3}  peak {peaks[0].Bytes / 1048576.0,9:F1} MiB"));
        _lastMeasured = Records.Count;
        if (ledger is null)
        {
            Records.Add(r);
            return r;
        }
        var ledgerRecords = LedgerRecords.For(r, warmRounds, rounds, DevicePeaks.For(timedOn ?? backend));
        Records.AddRange(ledgerRecords);
        if (log is not null) LedgerReport.Log(log, ledgerRecords);
        return ledgerRecords[0];
    }

    /// <summary>Changes the latest measurement's record (for what is only known after the runs: a note, the phases); not its op-class records.</summary>
    public void UpdateLast(Func<BenchRecord, BenchRecord> update) => Records[_lastMeasured] = update(Records[_lastMeasured]);

    private int _lastMeasured = -1;
}
