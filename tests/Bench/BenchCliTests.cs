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
    public void CheapComponentsWriteValidJsonWithPositiveMedians()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "--device", "cpu", "--components", "tenc,attention", "--runs", "2", "--warmup", "1",
            "--json", P("out.json"), "--markdown", P("out.md"), "--work-dir", P("work"));
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(P("out.json")));
        BenchJsonSchema.Assert(doc.RootElement);
        var records = doc.RootElement.EnumerateArray().ToList();
        Assert.Contains(records, r => r.GetProperty("name").GetString() == "tenc" && r.GetProperty("shape").GetString() == "b1 128x128");
        Assert.Contains(records, r => r.GetProperty("name").GetString() == "attention");
        Assert.All(records, r =>
        {
            Assert.True(r.GetProperty("median_ms").GetDouble() > 0);
            Assert.Equal(2, r.GetProperty("runs").GetInt32());
            Assert.Equal("fp32", r.GetProperty("dtype").GetString());
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
}
