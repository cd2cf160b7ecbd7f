using System.Text.Json;
using System.Text.Json.Nodes;
using LayerDiffusion.Native.Bench;
using Xunit;

namespace LayerDiffusion.Native.Tests.Bench;

public sealed class BenchReportTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    internal static BenchRecord Record(string name, BenchParams p, double[] samples, string? note = null) => new()
    {
        Name = name, Params = p, DType = "fp16", Device = "NVIDIA H200", SamplesMs = samples, WarmupSamplesMs = [samples[0] * 3],
        Stats = BenchStats.Of(samples), Warning = BenchStats.WarningFor(samples.Length),
        Peaks = [new BenchPeak(BenchPeak.Allocator, 123456789), new BenchPeak(BenchPeak.DeviceUsed, 987654321)],
        Note = note, Commit = "abc123",
    };

    internal static BenchFile File(params BenchRecord[] records) => new()
    {
        SchemaVersion = BenchFile.CurrentVersion,
        Context = BenchEnvironment.Capture(null, "ld bench --test", 3, 10, "NVIDIA H200", "synthetic") with
        {
            Gpu = new BenchGpu("NVIDIA H200", 132, 143_000_000_000, "580.159.04", "13.0", "9.0"),
        },
        Records = records,
    };

    private static BenchRecord Generation() => Record("generate", BenchParams.Image(1, 1024, 1024) with { Steps = 20, Method = "attn" }, [900, 910, 905]) with
    {
        Phases = new Dictionary<string, BenchPhase> { ["text"] = new(7.5, 1000), ["sample"] = new(800, null) },
    };

    [Fact]
    public void WrittenFileValidatesAgainstTheSchemaAndRoundTrips()
    {
        var file = File(Record("unet_step", BenchParams.Image(2, 1024, 1024), [41.9, 42.5, 41.7], "note"), Generation());
        BenchJson.Write(P("r.json"), file);
        BenchJsonSchema.AssertValid(P("r.json"));
        var back = BenchJson.Read(P("r.json"));
        using var again = new MemoryStream();
        BenchJson.Write(again, back);
        Assert.Equal(System.IO.File.ReadAllText(P("r.json")), System.Text.Encoding.UTF8.GetString(again.ToArray()));
        Assert.Equal(file.Records[1].Phases!["text"], back.Records[1].Phases!["text"]);
        Assert.Equal("b2 1024x1024", back.Records[0].Shape);
    }

    [Fact]
    public void NotApplicableFieldsAreNullNeverZeroOrEmpty()
    {
        var file = File(Record("attention", new BenchParams { Batch = 2, Heads = 10, Queries = 4096, Keys = 77, HeadWidth = 64 }, [1.0])) with { };
        file = file with { Context = file.Context with { Gpu = null } };
        BenchJson.Write(P("n.json"), file);
        var root = JsonNode.Parse(System.IO.File.ReadAllText(P("n.json")))!;
        var r = root["records"]![0]!;
        Assert.Null(r["params"]!["width"]);
        Assert.Null(r["phases"]);
        Assert.Null(r["counts"]);
        Assert.Null(r["stats"]!["stddev_ms"]);     // one run
        Assert.Null(root["context"]!["gpu"]);
        Assert.Contains("1 run", (string)r["warning"]!);
        BenchJsonSchema.AssertValid(P("n.json"));
    }

    [Theory]
    [InlineData("$.records[0].stats.runs", "0")]                  // below the minimum
    [InlineData("$.records[0].params.width", "0")]                // 0 for "does not apply"
    [InlineData("$.records[0].note", "\"\"")]                     // "" for "does not apply"
    [InlineData("$.context.gpu.driver_version", "\"\"")]
    [InlineData("$.records[0].dtype", "\"fp64\"")]
    [InlineData("$.records[0].peaks[0].source", "\"guess\"")]
    [InlineData("$.records[0].samples_ms", "[]")]
    [InlineData("$.context.date_utc", "\"yesterday\"")]
    public void TheSchemaRejectsWhatV1Forbids(string path, string json)
    {
        BenchJson.Write(P("m.json"), File(Record("unet_step", BenchParams.Image(2, 1024, 1024), [1, 2, 3])));
        var root = JsonNode.Parse(System.IO.File.ReadAllText(P("m.json")))!;
        Set(root, path, JsonNode.Parse(json));
        var errors = BenchJsonSchema.Errors(JsonDocument.Parse(root.ToJsonString()).RootElement);
        Assert.Contains(errors, e => e.StartsWith(path, StringComparison.Ordinal));
    }

    [Fact]
    public void TheSchemaRejectsUnknownAndMissingFields()
    {
        BenchJson.Write(P("m.json"), File(Record("unet_step", BenchParams.Image(2, 1024, 1024), [1, 2, 3])));
        var root = JsonNode.Parse(System.IO.File.ReadAllText(P("m.json")))!;
        root["records"]![0]!.AsObject().Remove("stats");
        root["records"]![0]!["extra"] = 1;
        var errors = BenchJsonSchema.Errors(JsonDocument.Parse(root.ToJsonString()).RootElement);
        Assert.Contains("$.records[0]: missing required 'stats'", errors);
        Assert.Contains(errors, e => e.StartsWith("$.records[0].extra", StringComparison.Ordinal));
    }

    private static void Set(JsonNode root, string path, JsonNode? value)
    {
        var parts = path[2..].Replace("[", ".[", StringComparison.Ordinal).Split('.');
        JsonNode node = root;
        for (int i = 0; i < parts.Length - 1; i++) node = Step(node, parts[i])!;
        string last = parts[^1];
        if (last.StartsWith('[')) node[int.Parse(last[1..^1])] = value;
        else node[last] = value;
    }

    private static JsonNode? Step(JsonNode n, string part) => part.StartsWith('[') ? n[int.Parse(part[1..^1])] : n[part];

    [Fact]
    public void OldFormatFilesStillReadWithTheirShapesAsParameters()
    {
        System.IO.File.WriteAllText(P("old.json"), """
            [{"name": "attention", "shape": "b2 h10 q4096 k77 d64", "dtype": "fp16", "device": "NVIDIA H200", "driver": "580.159.04",
              "runs": 10, "median_ms": 0.063, "p10_ms": 0.059, "p90_ms": 0.091, "peak_bytes": 5517000000, "peak_source": "allocator",
              "device_used_bytes": 0, "commit": "9e38bc4"},
             {"name": "generate", "shape": "b1 128x128 20 steps attn", "dtype": "fp32", "device": "CPU (2 threads)", "driver": "",
              "runs": 3, "median_ms": 752.0, "p10_ms": 749.2, "p90_ms": 790.6, "peak_bytes": 280000000, "peak_source": "process_peak_rss",
              "device_used_bytes": 0, "commit": "51938a7", "note": "phases ms: text 7.0"},
             {"name": "patch_conv", "shape": "426 tensors, 5.4M params", "dtype": "fp32", "device": "CPU", "driver": "", "runs": 3,
              "median_ms": 40.2, "p10_ms": 35.9, "p90_ms": 49.9, "peak_bytes": 0, "commit": "51938a7"},
             {"name": "custom", "shape": "whatever 12", "dtype": "fp32", "device": "CPU", "driver": "", "runs": 1,
              "median_ms": 1, "p10_ms": 1, "p90_ms": 1, "peak_bytes": 0, "commit": "x"}]
            """);
        var f = BenchJson.Read(P("old.json"));
        Assert.Equal(0, f.SchemaVersion);
        Assert.Equal(new BenchParams { Batch = 2, Heads = 10, Queries = 4096, Keys = 77, HeadWidth = 64 }, f.Records[0].Params);
        Assert.Equal(BenchParams.Image(1, 128, 128) with { Steps = 20, Method = "attn" }, f.Records[1].Params);
        Assert.Equal(new BenchParams { Tensors = 426, Parameters = 5_400_000 }, f.Records[2].Params);
        Assert.Equal("whatever 12", f.Records[3].Shape);
        Assert.Equal(5517000000, f.Records[0].Peak(BenchPeak.Allocator));
        Assert.Null(f.Records[0].Peak(BenchPeak.DeviceUsed));   // 0 in the old file meant "not applicable"
        Assert.Empty(f.Records[2].Peaks);
        Assert.Equal("NVIDIA H200, driver 580.159.04", f.Context.Device);
    }

    [Fact]
    public void ReadingAnOldFileWithoutARequiredFieldNamesTheField()
    {
        System.IO.File.WriteAllText(P("bad.json"), """[{"name": "x", "shape": "s", "dtype": "fp16", "device": "d", "driver": "", "runs": 3, "p10_ms": 1, "p90_ms": 2, "peak_bytes": 0, "commit": "c"}]""");
        var e = Assert.Throws<LdException>(() => BenchJson.Read(P("bad.json")));
        Assert.Contains("median_ms", e.Message);
        Assert.Contains(P("bad.json"), e.Message);
    }

    [Theory]
    [InlineData("""{"schema_version": 2, "context": {}, "records": []}""", "schema_version 2")]
    [InlineData("""{"records": []}""", "neither")]
    [InlineData("""{"schema_version": 1, "context": {}, "records": []}""", "not a valid bench JSON v1")]
    [InlineData("not json", "not JSON")]
    public void UnreadableFilesAreClearErrors(string text, string expected)
    {
        System.IO.File.WriteAllText(P("x.json"), text);
        var e = Assert.Throws<LdException>(() => BenchJson.Read(P("x.json")));
        Assert.Contains(expected, e.Message);
        Assert.Contains(P("x.json"), e.Message);
    }

    [Theory]
    [InlineData("b2 h10 q4096 k4096 d64")]
    [InlineData("b1 1024x1024")]
    [InlineData("b1 896x1152 20 steps conv")]
    [InlineData("b1 77 tokens")]
    [InlineData("88 tensors, 0.1M params")]
    [InlineData("2567.5M params")]
    public void ShapeTextsRoundTripThroughParameters(string text) =>
        Assert.Equal(text, BenchParams.ParseShapeText(text)!.ToShapeText());

    [Fact]
    public void MarkdownIsRenderedFromTheSameData()
    {
        var md = BenchReport.Markdown(File(Record("a", BenchParams.Image(1, 64, 64), [1, 1, 1]), Generation()));
        Assert.Contains("NVIDIA H200 (132 SMs", md);
        Assert.Contains("driver 580.159.04, CUDA 13.0", md);
        Assert.Contains("| a | b1 64x64 | fp16 | 3† | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 117.7 |", md);
        Assert.Contains("phases ms: text 7.5, sample 800.0", md);
        Assert.Contains("† fewer than 10 timed runs", md);
    }

    [Fact]
    public void RatiosMatchOnNameAndParameters()
    {
        var ours = new[]
        {
            Record("unet_step", BenchParams.Image(2, 1024, 1024), [30]), Record("unet_step", BenchParams.Image(1, 1024, 1024), [20]),
            Record("tenc", BenchParams.Image(1, 1024, 1024), [1]),
            Record("attention", new BenchParams { Batch = 2, Heads = 10, Queries = 4096, Keys = 77, HeadWidth = 64 }, [2]),
        };
        System.IO.File.WriteAllText(P("torch.json"), """
            [{"name": "unet_step", "shape": "b2 1024x1024", "dtype": "fp16", "device": "H200", "driver": "", "runs": 5, "median_ms": 60, "p10_ms": 59, "p90_ms": 61, "peak_bytes": 0, "commit": "t"},
             {"name": "tenc", "shape": "b1 896x1152", "dtype": "fp16", "device": "H200", "driver": "", "runs": 5, "median_ms": 1, "p10_ms": 1, "p90_ms": 1, "peak_bytes": 0, "commit": "t"},
             {"name": "attention", "shape": "b2 h20 q4096 k77 d64", "dtype": "fp16", "device": "H200", "driver": "", "runs": 5, "median_ms": 1, "p10_ms": 1, "p90_ms": 1, "peak_bytes": 0, "commit": "t"},
             {"name": "tdec_8way_batched", "shape": "b1 1024x1024", "dtype": "fp16", "device": "H200", "driver": "", "runs": 5, "median_ms": 5, "p10_ms": 5, "p90_ms": 5, "peak_bytes": 0, "commit": "t"}]
            """);
        var ratios = ReferenceComparison.Compare(ours, BenchJson.Read(P("torch.json")).Records);
        var r = Assert.Single(ratios);
        Assert.Equal("unet_step", r.Name);
        Assert.Equal(0.5, r.Ratio, 12);
        Assert.Contains("| unet_step | b2 1024x1024 | 30.000 (fp16) | 60.000 (fp16) | 0.50 |", ReferenceComparison.Markdown(ratios, "H200"));

        // A v1 reference matches the same way.
        BenchJson.Write(P("ref.json"), File(Record("tenc", BenchParams.Image(1, 1024, 1024), [4])));
        Assert.Equal(0.25, Assert.Single(ReferenceComparison.Compare(ours, BenchJson.Read(P("ref.json")).Records)).Ratio, 12);
    }

    [Fact]
    public void ParameterCountsMatchAtTheOldTextsPrecision()
    {
        var exact = new BenchParams { Parameters = 6_412_345 };
        Assert.True(exact.Matches(BenchParams.ParseShapeText("6.4M params")!));
        Assert.False(exact.Matches(BenchParams.ParseShapeText("6.5M params")!));
    }
}

/// <summary>Validates bench JSON against perf/bench-v1.schema.json (the schema the README documents).</summary>
internal static class BenchJsonSchema
{
    private static readonly Lazy<JsonSchemaSubset> Schema = new(() =>
        new JsonSchemaSubset(JsonDocument.Parse(System.IO.File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "perf", "bench-v1.schema.json"))).RootElement));

    public static List<string> Errors(JsonElement root) => Schema.Value.Validate(root);

    public static void AssertValid(string path)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
        var errors = Errors(doc.RootElement);
        Assert.True(errors.Count == 0, $"{path} does not match perf/bench-v1.schema.json:\n" + string.Join("\n", errors.Take(20)));
    }
}
