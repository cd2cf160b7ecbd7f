using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// Benchmark output: a JSON array with one record per measurement (perf/torch_reference.py writes the same schema),
/// and a Markdown table for perf/RESULTS.md. Reading checks every required field so a foreign file fails clearly.
/// </summary>
public static class BenchReport
{
    /// <summary>Fields every record has (the JSON schema tests/Bench checks, and what a reference file must provide).</summary>
    public static readonly string[] RequiredFields =
        ["name", "shape", "dtype", "device", "driver", "runs", "median_ms", "p10_ms", "p90_ms", "peak_bytes", "commit"];

    public static void WriteJson(Stream stream, IEnumerable<BenchRecord> records)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartArray();
        foreach (var r in records)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteString("shape", r.Shape);
            w.WriteString("dtype", r.DType);
            w.WriteString("device", r.Device);
            w.WriteString("driver", r.Driver);
            w.WriteNumber("runs", r.Runs);
            w.WriteNumber("median_ms", Math.Round(r.MedianMs, 4));
            w.WriteNumber("p10_ms", Math.Round(r.P10Ms, 4));
            w.WriteNumber("p90_ms", Math.Round(r.P90Ms, 4));
            w.WriteNumber("peak_bytes", r.PeakBytes);
            w.WriteString("peak_source", r.PeakSource);
            w.WriteNumber("device_used_bytes", r.DeviceUsedBytes);
            w.WriteString("commit", r.Commit);
            if (r.Note is not null) w.WriteString("note", r.Note);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static void WriteJson(string path, IEnumerable<BenchRecord> records)
    {
        string tmp = path + ".tmp";
        using (var fs = File.Create(tmp)) WriteJson(fs, records);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads a file of records (ours or the PyTorch reference's); throws LdException naming the file, record and field.</summary>
    public static List<BenchRecord> ReadJson(string path)
    {
        if (!File.Exists(path)) throw new LdException($"{path}: file not found");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new LdException($"{path}: not JSON ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new LdException($"{path}: expected a JSON array of bench records");
            var list = new List<BenchRecord>();
            int i = 0;
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                string Str(string f) => Field(path, i, e, f, JsonValueKind.String).GetString()!;
                double Num(string f) => Field(path, i, e, f, JsonValueKind.Number).GetDouble();
                list.Add(new BenchRecord(Str("name"), Str("shape"), Str("dtype"), Str("device"), Str("driver"), (int)Num("runs"),
                    Num("median_ms"), Num("p10_ms"), Num("p90_ms"), (long)Num("peak_bytes"),
                    e.TryGetProperty("device_used_bytes", out var u) && u.ValueKind == JsonValueKind.Number ? u.GetInt64() : 0,
                    Str("commit"),
                    e.TryGetProperty("note", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null,
                    e.TryGetProperty("peak_source", out var ps) && ps.ValueKind == JsonValueKind.String ? ps.GetString()! : "allocator"));
                i++;
            }
            return list;
        }
    }

    private static JsonElement Field(string path, int index, JsonElement e, string field, JsonValueKind kind)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new LdException($"{path}: record {index} is not an object");
        if (!e.TryGetProperty(field, out var v) || v.ValueKind != kind)
            throw new LdException($"{path}: record {index} has no {(kind == JsonValueKind.Number ? "numeric" : "string")} field '{field}'");
        return v;
    }

    /// <summary>The results table, headed by device, driver, commit, date and the models measured.</summary>
    public static string Markdown(IReadOnlyList<BenchRecord> records, string? models = null, DateTime? date = null)
    {
        var sb = new StringBuilder();
        var first = records.Count > 0 ? records[0] : null;
        string when = (date ?? DateTime.UtcNow).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        sb.AppendLine($"Device: {first?.Device ?? "-"}{(first is { Driver.Length: > 0 } ? ", driver " + first.Driver : "")}; commit {first?.Commit ?? "-"}; {when}");
        if (models is not null) sb.AppendLine($"Models: {models}");
        sb.AppendLine();
        sb.AppendLine("| component | shape | dtype | runs | median ms | p10 | p90 | peak MiB | note |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---|");
        foreach (var r in records)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Shape} | {r.DType} | {r.Runs} | {r.MedianMs:F3} | {r.P10Ms:F3} | {r.P90Ms:F3} | {r.PeakBytes / 1048576.0:F1}{(r.PeakSource == "allocator" ? "" : "*")} | {r.Note ?? ""} |"));
        if (records.Any(r => r.PeakSource != "allocator"))
            sb.AppendLine().AppendLine("\\* process peak resident set since start (the CPU has no allocator of its own), not a per-phase peak.");
        return sb.ToString();
    }
}
