using System.Globalization;
using System.Text;
using LayerDiffusion.Native.Backends.Ledger;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// The cost ledger as Markdown (one table per measured component, a row per op class), rendered from the same records
/// the JSON holds: a component's record (counts set, no op class) followed by its op-class records.
/// perf/README.md ("Reading the cost ledger") explains the columns.
/// </summary>
public static class LedgerReport
{
    /// <summary>Whether a record is an op-class row of a ledger (listed in the ledger tables, not the component table).</summary>
    public static bool IsOpClass(BenchRecord r) => r.Params.OpClass is not null;

    /// <summary>The ledger tables of every ledger measurement among <paramref name="records"/> ("" when there is none).</summary>
    public static string Markdown(IReadOnlyList<BenchRecord> records)
    {
        var sb = new StringBuilder();
        foreach (var (component, classes) in Groups(records))
        {
            sb.AppendLine().AppendLine($"### Cost ledger: {component.Name} {component.Shape} ({component.DType}, {component.Device})").AppendLine();
            sb.AppendLine(Summary(component, classes));
            if (component.Rates is { PeakSource: { } source } rates)
                sb.AppendLine().AppendLine(rates.PeakTflopS is null && rates.PeakGbS is null
                    ? $"Peak figures of this card unknown ({source})."
                    : F($"Peak: {Num(rates.PeakTflopS, "F1")} TFLOP/s, {Num(rates.PeakGbS, "F0")} GB/s ({source})."));
            // A GPU's rates in TFLOP/s, the CPU's (three orders of magnitude lower) in GFLOP/s.
            bool gpu = component.Counts!.Launches is not null;
            double flopUnit = gpu ? 1 : 1e3;
            sb.AppendLine();
            sb.AppendLine($"| op class | ops | launches | GFLOP | MB moved | median ms | % of op time | {(gpu ? "TFLOP/s" : "GFLOP/s")} | GB/s | % of peak FLOP/s | % of peak GB/s |");
            sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            double opTime = classes.Sum(c => c.MedianMs);
            foreach (var c in classes.Append(component))
            {
                var n = c.Counts!;
                var rt = c.Rates;
                string label = c.Params.OpClass ?? "**all**";
                string share = c.Params.OpClass is null || opTime <= 0 ? "" : F($"{100 * c.MedianMs / opTime:F1}");
                sb.AppendLine(F($"| {label} | {n.Ops} | {Int(n.Launches)} | {Num(n.Flops / 1e9, "F3")} | {Num(n.Bytes / 1e6, "F2")} | {c.MedianMs:F3} | {share} | {Num(rt?.TflopS * flopUnit, "F3")} | {Num(rt?.GbS, "F1")} | {Pct(rt?.FlopShare)} | {Pct(rt?.BandwidthShare)} |"));
            }
            if (classes.FirstOrDefault(c => c.Note is not null) is { } odd) sb.AppendLine().AppendLine($"{odd.Params.OpClass}: {odd.Note}");
        }
        return sb.ToString();
    }

    /// <summary>One line per class on the progress log, after the component's own line.</summary>
    public static void Log(TextWriter log, IReadOnlyList<BenchRecord> measurement)
    {
        foreach (var c in measurement.Where(IsOpClass))
        {
            var n = c.Counts!;
            log.WriteLine(F($"  {c.Params.OpClass,-16} {n.Ops,6} ops {Int(n.Launches),6} launches {n.Flops / 1e9,12:F3} GFLOP {n.Bytes / 1e6,11:F2} MB {c.MedianMs,10:F3} ms"));
        }
    }

    private static IEnumerable<(BenchRecord Component, List<BenchRecord> Classes)> Groups(IReadOnlyList<BenchRecord> records)
    {
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i];
            if (IsOpClass(r) || r.Counts is null) continue;
            var classes = new List<BenchRecord>();
            while (i + 1 < records.Count && IsOpClass(records[i + 1]) && records[i + 1].Name == r.Name) classes.Add(records[++i]);
            yield return (r, classes);
        }
    }

    private static string Summary(BenchRecord component, List<BenchRecord> classes)
    {
        var n = component.Counts!;
        string launches = n.Launches is { } l ? F($"{l} launches, ") : "no launches (CPU), ";
        return F($"Median {component.MedianMs:F3} ms for the whole work; the ops' own times add up to {classes.Sum(c => c.MedianMs):F3} ms (medians per class). ") +
            F($"{n.Ops} ops, {launches}{Num(n.Flops / 1e9, "F3")} GFLOP, {Num(n.Bytes / 1e6, "F2")} MB moved.");
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    private static string Num(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "";
    private static string Int(long? v) => v is { } x ? x.ToString(CultureInfo.InvariantCulture) : "";
    private static string Pct(double? share) => share is { } s ? (100 * s).ToString("F1", CultureInfo.InvariantCulture) : "";
}
