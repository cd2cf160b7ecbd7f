using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LayerDiffusion.Native.Bench;

/// <summary>Benchmark output: one JSON record per measurement, and a Markdown table for perf/RESULTS.md.</summary>
public static class BenchReport
{
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
            w.WriteNumber("device_used_bytes", r.DeviceUsedBytes);
            w.WriteString("commit", r.Commit);
            if (r.Note is not null) w.WriteString("note", r.Note);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static string Markdown(IReadOnlyList<BenchRecord> records)
    {
        var sb = new StringBuilder();
        string device = records.Count > 0 ? records[0].Device : "";
        sb.AppendLine($"Device: {device}{(records.Count > 0 && records[0].Driver.Length > 0 ? ", driver " + records[0].Driver : "")}; commit {(records.Count > 0 ? records[0].Commit : "")}; {DateTime.UtcNow:yyyy-MM-dd}");
        sb.AppendLine();
        sb.AppendLine("| component | shape | dtype | median ms | p10 | p90 | peak MiB |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|");
        foreach (var r in records)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Shape} | {r.DType} | {r.MedianMs:F3} | {r.P10Ms:F3} | {r.P90Ms:F3} | {r.PeakBytes / 1048576.0:F1} |"));
        return sb.ToString();
    }
}
