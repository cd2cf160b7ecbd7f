using LayerDiffusion.Native.Backends.Ledger;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// Turns the ledger rounds of one measurement into bench records: the component's own record with the run's total
/// counts and rates (its time is the whole work's, gaps between ops included), then one record per op class, named
/// as the component with <c>params.op_class</c> set, whose samples are the class's summed op times per run. Counts
/// are the last timed run's; they are deterministic, and a note says so where runs disagreed (a first call that
/// searched for an algorithm, say).
/// </summary>
public static class LedgerRecords
{
    public static List<BenchRecord> For(BenchRecord component, IReadOnlyList<LedgerRound> warm, IReadOnlyList<LedgerRound> timed, DevicePeak? peak)
    {
        var last = timed[^1];
        var total = last.Total;
        var records = new List<BenchRecord>
        {
            component with
            {
                Counts = Counts(total), Rates = Rates(total, component.MedianMs, peak),
                Note = Join(component.Note, $"cost ledger: {total.Ops} ops timed one by one (a mark before and after each)"),
            },
        };
        var classes = timed.Concat(warm).SelectMany(r => r.Classes.Keys).Distinct().OrderBy(OpClass.Order).ThenBy(c => c, StringComparer.Ordinal);
        foreach (var cls in classes)
        {
            double[] Samples(IEnumerable<LedgerRound> rounds) =>
                rounds.Select(r => BenchStats.R(r.Classes.TryGetValue(cls, out var t) ? t.Ms : 0)).ToArray();
            var samples = Samples(timed);
            var counts = last.Classes.TryGetValue(cls, out var c) ? c : new OpClassTotals(0, null, 0, 0, 0);
            var stats = BenchStats.Of(samples);
            records.Add(component with
            {
                Params = component.Params with { OpClass = cls },
                SamplesMs = samples,
                WarmupSamplesMs = Samples(warm),
                Stats = stats,
                Phases = null,
                Counts = Counts(counts),
                Rates = Rates(counts, stats.MedianMs, peak),
                Note = Disagreement(cls, timed),
            });
        }
        return records;
    }

    private static BenchCounts Counts(OpClassTotals t) => new(t.Ops, t.Launches, t.Flops, t.Bytes);

    /// <summary>Rates over <paramref name="ms"/>; null when the time is 0 (nothing measurable, e.g. views only).</summary>
    public static BenchRates? Rates(OpClassTotals t, double ms, DevicePeak? peak)
    {
        if (ms <= 0) return null;
        double tflops = t.Flops / (ms * 1e-3) / 1e12, gbs = t.Bytes / (ms * 1e-3) / 1e9;
        return new BenchRates(Round(tflops), Round(gbs), peak?.TflopS, peak?.GbS, peak?.Source,
            peak?.TflopS is { } pf ? Round(tflops / pf) : null, peak?.GbS is { } pb ? Round(gbs / pb) : null);
    }

    private static double Round(double v) => Math.Round(v, 6);

    private static string? Disagreement(string cls, IReadOnlyList<LedgerRound> timed)
    {
        var distinct = timed.Select(r => r.Classes.TryGetValue(cls, out var t) ? t with { Ms = 0 } : default).Distinct().Count();
        return distinct > 1 ? $"counts differed between the {timed.Count} timed runs; the last run's are given" : null;
    }

    private static string Join(string? a, string b) => a is null ? b : $"{a}; {b}";
}
