using System.Globalization;
using System.Text;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// The Markdown table of a bench file (for perf/RESULTS.md), rendered from the same records and context the JSON
/// holds: a header with device, driver, runtime, commit and date, one row per record, and footnotes for the peaks'
/// sources and for records whose run count is too small for their percentiles; then the cost ledger's tables, if
/// the run kept one (<see cref="LedgerReport"/>).
/// </summary>
public static class BenchReport
{
    public static string Markdown(BenchFile file) => Markdown(file.Records, file.Context);

    public static string Markdown(IReadOnlyList<BenchRecord> records, BenchEnvironment context)
    {
        var sb = new StringBuilder();
        sb.AppendLine(Header(context));
        if (context.Models is not null) sb.AppendLine($"Models: {context.Models}");
        sb.AppendLine();
        sb.AppendLine("| component | shape | dtype | runs | median ms | p10 | p90 | min | max | peak MiB | note |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
        bool rss = false, fewRuns = false;
        foreach (var r in records.Where(r => !LedgerReport.IsOpClass(r)))
        {
            var (peak, mark) = TablePeak(r);
            rss |= mark == "*";
            bool warn = r.Warning is not null;
            fewRuns |= warn;
            var s = r.Stats;
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Shape} | {r.DType} | {s.Runs}{(warn ? "†" : "")} | {s.MedianMs:F3} | {s.P10Ms:F3} | {s.P90Ms:F3} | {Ms(s.MinMs)} | {Ms(s.MaxMs)} | {peak}{mark} | {Note(r)} |"));
        }
        if (rss) sb.AppendLine().AppendLine("\\* process peak resident set since start (the CPU has no allocator of its own), not a per-phase peak.");
        if (fewRuns)
            sb.AppendLine().AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"† fewer than {BenchStats.RunsForPercentiles} timed runs: p10 and p90 interpolate between the lowest and highest samples (the JSON record's warning)."));
        sb.Append(LedgerReport.Markdown(records));
        return sb.ToString();
    }

    private static string Header(BenchEnvironment c)
    {
        string gpu = c.Gpu is { } g
            ? string.Create(CultureInfo.InvariantCulture, $"{g.Name} ({g.SmCount} SMs, {g.MemoryBytes / 1e9:F0} GB, sm_{g.ComputeCapability.Replace(".", "")}), driver {g.DriverVersion ?? "?"}, CUDA {g.CudaVersion}")
            : c.Device ?? "-";
        string cpu = c.Cpu.Model is { } m ? $"; CPU {m}{(c.Cpu.Cores is { } n ? $", {n} cores" : "")}" : "";
        string rt = c.Runtime.Mode == "unknown" ? "" : $"; {c.Runtime.DotnetVersion} {c.Runtime.Mode}";
        string date = c.DateUtc.Length >= 10 ? c.DateUtc[..10] : c.DateUtc;
        return $"Device: {gpu}{cpu}{rt}; commit {c.Commit}; {date}";
    }

    /// <summary>The allocator's peak where there is one, else the process's (marked), in MiB.</summary>
    private static (string Text, string Mark) TablePeak(BenchRecord r)
    {
        if (r.Peak(BenchPeak.Allocator) is { } a) return (MiB(a), "");
        if (r.Peak(BenchPeak.ProcessPeakRss) is { } p) return (MiB(p), "*");
        return ("", "");
    }

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);
    private static string Ms(double? ms) => ms is { } v ? v.ToString("F3", CultureInfo.InvariantCulture) : "";

    /// <summary>The note, then the phases (a generation's) as "phases ms: text 7.0, sample 495.7, ...".</summary>
    private static string Note(BenchRecord r)
    {
        var parts = new List<string>();
        if (r.Phases is { Count: > 0 } phases)
            parts.Add("phases ms: " + string.Join(", ", phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value.Ms:F1}"))));
        if (r.Note is not null) parts.Add(r.Note);
        return string.Join("; ", parts);
    }
}
