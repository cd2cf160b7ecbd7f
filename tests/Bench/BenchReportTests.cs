using System.Text.Json;
using LayerDiffusion.Native.Bench;
using Xunit;

namespace LayerDiffusion.Native.Tests.Bench;

public sealed class BenchReportTests
{
    private static BenchRecord Record(string name, string shape, double median, string? note = null) =>
        new(name, shape, "fp16", "NVIDIA H200", "580.1", 10, median, median - 0.5, median + 2, 123456789, 987654321, "abc123", note);

    [Fact]
    public void JsonHasEveryRequiredFieldAndRoundTrips()
    {
        var records = new[] { Record("unet_step", "b2 1024x1024", 41.9, "note"), Record("vae_decode", "b1 1024x1024", 85.2) };
        string dir = TestPaths.TempDir();
        try
        {
            string path = Path.Combine(dir, "r.json");
            BenchReport.WriteJson(path, records);
            using (var doc = JsonDocument.Parse(File.ReadAllBytes(path))) BenchJsonSchema.Assert(doc.RootElement);
            var back = BenchReport.ReadJson(path);
            Assert.Equal(records, back);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ReadingAFileWithoutARequiredFieldNamesTheField()
    {
        string dir = TestPaths.TempDir();
        try
        {
            string path = Path.Combine(dir, "bad.json");
            File.WriteAllText(path, """[{"name": "x", "shape": "s", "dtype": "fp16", "device": "d", "driver": "", "runs": 3, "p10_ms": 1, "p90_ms": 2, "peak_bytes": 0, "commit": "c"}]""");
            var e = Assert.Throws<LdException>(() => BenchReport.ReadJson(path));
            Assert.Contains("median_ms", e.Message);
            Assert.Contains(path, e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MarkdownHasOneRowPerRecordAndNamesTheDevice()
    {
        var md = BenchReport.Markdown([Record("a", "s1", 1), Record("b", "s2", 2)], "synthetic");
        Assert.Contains("NVIDIA H200", md);
        Assert.Contains("driver 580.1", md);
        Assert.Contains("| a | s1 | fp16 | 10 | 1.000 |", md);
        Assert.Contains("| b | s2 | fp16 | 10 | 2.000 |", md);
    }

    [Fact]
    public void RatiosMatchOnNameAndShapeOnly()
    {
        var ours = new[] { Record("unet_step", "b2 1024x1024", 30), Record("unet_step", "b1 1024x1024", 20), Record("tenc", "b1 1024x1024", 1) };
        var reference = new[] { Record("unet_step", "b2 1024x1024", 60), Record("tenc", "b1 896x1152", 1), Record("tdec_8way_batched", "b1 1024x1024", 5) };
        var ratios = ReferenceComparison.Compare(ours, reference);
        var r = Assert.Single(ratios);
        Assert.Equal("unet_step", r.Name);
        Assert.Equal(0.5, r.Ratio, 12);
        Assert.Contains("| unet_step | b2 1024x1024 | 30.000 (fp16) | 60.000 (fp16) | 0.50 |", ReferenceComparison.Markdown(ratios, "H200"));
    }
}

internal static class BenchJsonSchema
{
    /// <summary>Checks one JSON file of records against the schema every consumer (RESULTS.md, --reference) relies on.</summary>
    public static void Assert(JsonElement root)
    {
        Xunit.Assert.Equal(JsonValueKind.Array, root.ValueKind);
        foreach (var e in root.EnumerateArray())
        {
            foreach (var f in BenchReport.RequiredFields)
                Xunit.Assert.True(e.TryGetProperty(f, out _), $"record without '{f}': {e}");
            foreach (var f in new[] { "name", "shape", "dtype", "device", "driver", "commit", "peak_source" })
                Xunit.Assert.Equal(JsonValueKind.String, e.GetProperty(f).ValueKind);
            foreach (var f in new[] { "runs", "median_ms", "p10_ms", "p90_ms", "peak_bytes", "device_used_bytes" })
                Xunit.Assert.Equal(JsonValueKind.Number, e.GetProperty(f).ValueKind);
            Xunit.Assert.False(string.IsNullOrEmpty(e.GetProperty("name").GetString()));
            Xunit.Assert.True(e.GetProperty("runs").GetInt32() >= 1);
            Xunit.Assert.True(e.GetProperty("p10_ms").GetDouble() <= e.GetProperty("median_ms").GetDouble());
            Xunit.Assert.True(e.GetProperty("median_ms").GetDouble() <= e.GetProperty("p90_ms").GetDouble());
        }
    }
}
