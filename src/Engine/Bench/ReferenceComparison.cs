using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LayerDiffusion.Native.Bench;

/// <summary>One component measured by us and by the PyTorch reference at the same shape.</summary>
public sealed record BenchRatio(string Name, string Shape, string OursDType, string ReferenceDType, double OursMs, double ReferenceMs)
{
    /// <summary>Our median over the reference's: above 1 we are slower.</summary>
    public double Ratio => OursMs / ReferenceMs;
}

/// <summary>
/// Side-by-side ratios against a reference file (perf/torch_reference.py's, or another of ours): records match on
/// name and parameters, field by field (<see cref="BenchParams.Matches"/>), so a v1 file and an old-format one
/// compare; old records whose shape text did not parse match on that text. Only meaningful when both ran on the
/// same card in the same session.
/// </summary>
public static class ReferenceComparison
{
    public static List<BenchRatio> Compare(IEnumerable<BenchRecord> ours, IEnumerable<BenchRecord> reference)
    {
        var refs = reference.Where(r => r.MedianMs > 0).ToList();
        var list = new List<BenchRatio>();
        foreach (var o in ours)
            if (refs.FirstOrDefault(r => Same(o, r)) is { } r)
                list.Add(new BenchRatio(o.Name, o.Shape, o.DType, r.DType, o.MedianMs, r.MedianMs));
        return list;
    }

    /// <summary>Same component at the same parameters (dtype may differ: the ratio names both).</summary>
    public static bool Same(BenchRecord a, BenchRecord b) =>
        a.Name == b.Name && (a.UnparsedShape is null && b.UnparsedShape is null ? a.Params.Matches(b.Params) : a.Shape == b.Shape);

    public static string Markdown(IReadOnlyList<BenchRatio> ratios, string referenceDevice)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Ratio to the PyTorch reference ({referenceDevice}); above 1 = slower than PyTorch");
        sb.AppendLine();
        sb.AppendLine("| component | shape | ours ms | torch ms | ratio |");
        sb.AppendLine("|---|---|---:|---:|---:|");
        foreach (var r in ratios)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Shape} | {r.OursMs:F3} ({r.OursDType}) | {r.ReferenceMs:F3} ({r.ReferenceDType}) | {r.Ratio:F2} |"));
        if (ratios.Count == 0) sb.AppendLine("| (no component matched on name and shape) | | | | |");
        return sb.ToString();
    }

    public static void WriteJson(string path, IEnumerable<BenchRatio> ratios)
    {
        using var fs = File.Create(path);
        using var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true });
        w.WriteStartArray();
        foreach (var r in ratios)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteString("shape", r.Shape);
            w.WriteString("ours_dtype", r.OursDType);
            w.WriteString("reference_dtype", r.ReferenceDType);
            w.WriteNumber("ours_median_ms", Math.Round(r.OursMs, 4));
            w.WriteNumber("reference_median_ms", Math.Round(r.ReferenceMs, 4));
            w.WriteNumber("ratio", Math.Round(r.Ratio, 4));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
