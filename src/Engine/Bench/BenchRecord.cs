using System.Text.Json.Serialization;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// One measurement (a bench JSON v1 record): a component at its parameters, every timed sample in run order (and the
/// warm-up runs', which show first-run costs such as JIT compilation and lazy loads), the statistics of the samples,
/// the peaks with their source, and for a whole generation its phases. Fields that do not apply are null, never 0
/// or "". <see cref="Counts"/> is for per-op-class records (launches, FLOPs, bytes moved); whole components leave
/// it null.
/// </summary>
public sealed record BenchRecord
{
    public required string Name { get; init; }
    public required BenchParams Params { get; init; }
    /// <summary>The old format's shape text, rendered from <see cref="Params"/> (a label; matching uses the params).</summary>
    public string Shape => UnparsedShape ?? Params.ToShapeText();
    /// <summary>An old-format record's shape text that did not parse into parameters (it then matches by this text); else null.</summary>
    [JsonIgnore]
    public string? UnparsedShape { get; init; }
    [JsonPropertyName("dtype")]
    public required string DType { get; init; }
    /// <summary>What timed it: the GPU by name, or "CPU (N threads)".</summary>
    public required string Device { get; init; }
    /// <summary>Timed runs in milliseconds, in run order; null in records read from an old-format file.</summary>
    public double[]? SamplesMs { get; init; }
    /// <summary>Warm-up runs in milliseconds, in run order (empty when there were none; null in old files).</summary>
    public double[]? WarmupSamplesMs { get; init; }
    public required BenchStats Stats { get; init; }
    /// <summary>Why the statistics say less than their names suggest (too few runs for the percentiles), or null.</summary>
    public string? Warning { get; init; }
    public required IReadOnlyList<BenchPeak> Peaks { get; init; }
    /// <summary>Phase name → time and peak, for work with phases of its own (a whole generation); else null.</summary>
    public IReadOnlyDictionary<string, BenchPhase>? Phases { get; init; }
    public BenchCounts? Counts { get; init; }
    /// <summary>Achieved rates of a cost-ledger record (its counts over its median time) and their share of the card's peak; else null.</summary>
    public BenchRates? Rates { get; init; }
    public string? Note { get; init; }
    /// <summary>The build that measured it (the reference's own for a PyTorch file).</summary>
    public required string Commit { get; init; }

    [JsonIgnore]
    public double MedianMs => Stats.MedianMs;

    /// <summary>The peak of a source, or null when the record has none from it.</summary>
    public long? Peak(string source) => Peaks.FirstOrDefault(p => p.Source == source)?.Bytes;
}

/// <summary>Statistics of the timed samples: numpy's linear-interpolation percentiles, sample standard deviation (n − 1).</summary>
public sealed record BenchStats
{
    public required int Runs { get; init; }
    /// <summary>Null only in records read from an old-format file, which kept no samples.</summary>
    public double? MinMs { get; init; }
    public required double MedianMs { get; init; }
    public required double P10Ms { get; init; }
    public required double P90Ms { get; init; }
    public double? MaxMs { get; init; }
    /// <summary>Null below two runs (no spread to estimate) and in old-format records.</summary>
    public double? StddevMs { get; init; }

    /// <summary>Fewer timed runs than this and p10/p90 interpolate between the extreme samples instead of describing tails.</summary>
    public const int RunsForPercentiles = 10;

    public static BenchStats Of(IReadOnlyList<double> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("no samples");
        var sorted = samples.Order().ToArray();
        double? stddev = null;
        if (sorted.Length >= 2)
        {
            double mean = sorted.Average();
            stddev = Math.Sqrt(sorted.Sum(v => (v - mean) * (v - mean)) / (sorted.Length - 1));
        }
        return new BenchStats
        {
            Runs = sorted.Length, MinMs = R(sorted[0]), MedianMs = R(Percentile(sorted, 0.5)), P10Ms = R(Percentile(sorted, 0.1)),
            P90Ms = R(Percentile(sorted, 0.9)), MaxMs = R(sorted[^1]), StddevMs = stddev is { } s ? R(s) : null,
        };
    }

    /// <summary>The warning a record of this many runs carries, or null.</summary>
    public static string? WarningFor(int runs) => runs switch
    {
        1 => "1 run: no spread; min, median, p10, p90 and max are that run and stddev is null",
        < RunsForPercentiles => $"{runs} runs: p10 and p90 interpolate between the lowest and highest samples; {RunsForPercentiles} or more runs give them meaning",
        _ => null,
    };

    /// <summary>Linear interpolation between order statistics (numpy's default) of an ascending array.</summary>
    public static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    /// <summary>Times are kept to 0.1 µs.</summary>
    public static double R(double ms) => Math.Round(ms, 4);
}

/// <summary>
/// A peak and where it comes from: "allocator" (the backend pool's peak over the timed runs: live tensors, weights
/// included), "process_peak_rss" (the CPU: the process's peak resident set since start, monotonic over a run),
/// "device_used" (total − free device memory after the runs: context, library workspaces and caches included).
/// </summary>
public sealed record BenchPeak(string Source, long Bytes)
{
    public const string Allocator = "allocator", ProcessPeakRss = "process_peak_rss", DeviceUsed = "device_used";
}

/// <summary>One phase of a measured run (the last timed one): its time and, where the backend has an allocator, its peak.</summary>
public sealed record BenchPhase(double Ms, long? PeakBytes);

/// <summary>
/// Work counts of a cost-ledger record (one run of the component, or of one op class in it): backend op calls,
/// launches (kernels plus library calls; null on the CPU, which launches nothing), FLOPs and bytes moved
/// (Backends/Ledger/OpCosts.cs: analytic, the same on every backend). Null where not counted.
/// </summary>
public sealed record BenchCounts(long? Ops, long? Launches, long? Flops, long? Bytes);

/// <summary>
/// Achieved rates of a cost-ledger record: FLOPs and bytes over the median time, and on a GPU the card's peak for the
/// precision the work ran in (Backends/Ledger/DevicePeaks.cs: a datasheet entry or derived figures, named in
/// <see cref="PeakSource"/>) and the shares of it. Shares and peaks are null on the CPU and where the card's figures
/// are unknown; rates are null when the median time is 0.
/// </summary>
public sealed record BenchRates(double? TflopS, double? GbS, double? PeakTflopS, double? PeakGbS, string? PeakSource, double? FlopShare, double? BandwidthShare);
