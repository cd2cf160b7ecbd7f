using System.Text.Json;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// The format before v1, still read for comparisons: a JSON array of flat records (name, shape, dtype, device,
/// driver, runs, median_ms, p10_ms, p90_ms, peak_bytes, commit; optional peak_source, device_used_bytes, note), as
/// our older files and perf/torch_reference.py write it. Shape texts become parameters
/// (<see cref="BenchParams.ParseShapeText"/>); one the grammar does not cover is kept as
/// <see cref="BenchRecord.UnparsedShape"/> and matches by that text alone.
/// </summary>
public static class LegacyBenchJson
{
    /// <summary>Fields every old record has.</summary>
    public static readonly string[] RequiredFields =
        ["name", "shape", "dtype", "device", "driver", "runs", "median_ms", "p10_ms", "p90_ms", "peak_bytes", "commit"];

    public static BenchFile Read(string path, JsonElement root)
    {
        var records = new List<BenchRecord>();
        int i = 0;
        foreach (var e in root.EnumerateArray())
        {
            string Str(string f) => Field(path, i, e, f, JsonValueKind.String).GetString()!;
            double Num(string f) => Field(path, i, e, f, JsonValueKind.Number).GetDouble();
            string? OptStr(string f) => e.TryGetProperty(f, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
            long? OptNum(string f) => e.TryGetProperty(f, out var v) && v.ValueKind == JsonValueKind.Number && v.GetDouble() is > 0 and var n ? (long)n : null;

            string shape = Str("shape");
            var parsed = BenchParams.ParseShapeText(shape);
            var peaks = new List<BenchPeak>();
            if ((long)Num("peak_bytes") is > 0 and var peak) peaks.Add(new BenchPeak(OptStr("peak_source") ?? BenchPeak.Allocator, peak));
            if (OptNum("device_used_bytes") is { } used) peaks.Add(new BenchPeak(BenchPeak.DeviceUsed, used));
            int runs = (int)Num("runs");
            var r = new BenchRecord
            {
                Name = Str("name"),
                Params = parsed ?? new BenchParams(),
                DType = Str("dtype"),
                Device = Str("device"),
                Stats = new BenchStats { Runs = runs, MedianMs = Num("median_ms"), P10Ms = Num("p10_ms"), P90Ms = Num("p90_ms") },
                Warning = BenchStats.WarningFor(runs),
                Peaks = peaks,
                Note = OptStr("note"),
                Commit = Str("commit"),
                UnparsedShape = parsed is null ? shape : null,
            };
            records.Add(r);
            i++;
        }
        var first = records.FirstOrDefault();
        string? driver = root.GetArrayLength() > 0 && root[0].TryGetProperty("driver", out var d) && d.GetString() is { Length: > 0 } ds ? ds : null;
        return new BenchFile
        {
            SchemaVersion = 0,
            Context = new BenchEnvironment
            {
                DateUtc = File.GetLastWriteTimeUtc(path).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                Cpu = new BenchCpu(null, null),
                Runtime = new BenchRuntime("unknown", "unknown", null, null, null),
                Commit = first?.Commit ?? "unknown",
                Device = first is null ? null : first.Device + (driver is null ? "" : $", driver {driver}"),
            },
            Records = records,
        };
    }

    private static JsonElement Field(string path, int index, JsonElement e, string field, JsonValueKind kind)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new LdException($"{path}: record {index} is not an object");
        if (!e.TryGetProperty(field, out var v) || v.ValueKind != kind)
            throw new LdException($"{path}: record {index} has no {(kind == JsonValueKind.Number ? "numeric" : "string")} field '{field}'");
        return v;
    }
}
