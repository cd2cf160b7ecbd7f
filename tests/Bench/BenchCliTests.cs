using LayerDiffusion.Native.Bench;
using System.Text.Json;
using Xunit;

namespace LayerDiffusion.Native.Tests.Bench;

/// <summary>`ld bench` end to end on the CPU with the tiny synthetic models (written into a temporary work dir).</summary>
public sealed class BenchCliTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void CheapComponentsWriteV1JsonThatMatchesTheSchema()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "--device", "cpu", "--components", "tenc,attention", "--runs", "2", "--warmup", "1",
            "--json", P("out.json"), "--markdown", P("out.md"), "--work-dir", P("work"));
        Assert.True(code == 0, stderr);
        BenchJsonSchema.AssertValid(P("out.json"));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(P("out.json")));
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        var context = root.GetProperty("context");
        Assert.Equal(JsonValueKind.Null, context.GetProperty("gpu").ValueKind);
        Assert.Equal("jit", context.GetProperty("runtime").GetProperty("mode").GetString());
        Assert.StartsWith("ld bench --device cpu --components tenc,attention", context.GetProperty("command_line").GetString());
        Assert.Equal(Environment.ProcessorCount, context.GetProperty("cpu").GetProperty("cores").GetInt32());
        var records = root.GetProperty("records").EnumerateArray().ToList();
        Assert.Contains(records, r => r.GetProperty("name").GetString() == "tenc"
            && r.GetProperty("params").GetProperty("width").GetInt32() == 128 && r.GetProperty("params").GetProperty("height").GetInt32() == 128);
        Assert.Contains(records, r => r.GetProperty("name").GetString() == "attention" && r.GetProperty("params").GetProperty("heads").GetInt32() >= 1);
        Assert.All(records, r =>
        {
            Assert.Equal(2, r.GetProperty("samples_ms").GetArrayLength());
            Assert.Equal(1, r.GetProperty("warmup_samples_ms").GetArrayLength());
            Assert.True(r.GetProperty("stats").GetProperty("median_ms").GetDouble() > 0);
            Assert.Equal("fp32", r.GetProperty("dtype").GetString());
            Assert.Equal("process_peak_rss", r.GetProperty("peaks")[0].GetProperty("source").GetString());
            Assert.Contains("2 runs", r.GetProperty("warning").GetString());
        });
        Assert.Contains("| tenc | b1 128x128 |", stdout);
        Assert.Contains("| tenc | b1 128x128 |", File.ReadAllText(P("out.md")));
    }

    [Fact]
    public void ReferenceRatiosForMatchingRecords()
    {
        var (code, _, stderr) = CliRunner.Run("bench", "--device", "cpu", "--components", "tenc", "--size", "64x64", "--runs", "1",
            "--warmup", "0", "--json", P("ours.json"), "--work-dir", P("work"));
        Assert.True(code == 0, stderr);
        File.WriteAllText(P("torch.json"), """
            [{"name": "tenc", "shape": "b1 64x64", "dtype": "fp32", "device": "CPU (torch)", "driver": "", "runs": 5,
              "median_ms": 0.5, "p10_ms": 0.4, "p90_ms": 0.6, "peak_bytes": 0, "commit": "x"},
             {"name": "tdec_8way_batched", "shape": "b1 64x64", "dtype": "fp32", "device": "CPU (torch)", "driver": "", "runs": 5,
              "median_ms": 9, "p10_ms": 8, "p90_ms": 10, "peak_bytes": 0, "commit": "x"}]
            """);
        (code, var stdout, stderr) = CliRunner.Run("bench", "--results", P("ours.json"), "--reference", P("torch.json"), "--ratios", P("ratios.json"));
        Assert.True(code == 0, stderr);
        Assert.Contains("| tenc | b1 64x64 |", stdout);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(P("ratios.json")));
        var r = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(r.GetProperty("ours_median_ms").GetDouble() / 0.5, r.GetProperty("ratio").GetDouble(), 2);
    }

    [Theory]
    [InlineData("--components", "warp")]
    [InlineData("--size", "100x100")]
    [InlineData("--device", "tpu")]
    [InlineData("--tokenizer", "x")]
    public void BadOptionsAreUsageErrorsNamingTheOption(string option, string value)
    {
        var (code, _, stderr) = CliRunner.Run("bench", "--device", "cpu", option, value, "--work-dir", P("work"));
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
    }

    [Fact]
    public void RuntimeModeTellsReadyToRunImagesFromIl()
    {
        // The shared framework's CoreLib is ReadyToRun; the engine the tests load is the Engine project's IL build.
        Assert.True(BenchRuntime.IsReadyToRunImage(typeof(object).Assembly.Location));
        Assert.False(BenchRuntime.IsReadyToRunImage(typeof(BenchRuntime).Assembly.Location));
        File.WriteAllText(P("not-pe.dll"), "not a PE file");
        Assert.False(BenchRuntime.IsReadyToRunImage(P("not-pe.dll")));
        Assert.False(BenchRuntime.IsReadyToRunImage(P("missing.dll")));
    }
}
