using System.Text.Json;
using LayerDiffusion.Native.Cli;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// What scripts rely on: `--json -` puts the JSON alone on stdout, `--progress jsonl` makes stderr one JSON event
/// per line (every step and phase), the step clock measures sampling only, the JSON carries the settings and the
/// input files' hashes, and --quiet / --verbose change stderr only.
/// </summary>
public sealed class ScriptingTests
{
    private static readonly string Dir = TestPaths.TempDir();

    private static (int Code, string Stdout, string Stderr) Demo(params string[] extra) =>
        CliRunner.Run(["generate", "--demo", "--device", "cpu", "--steps", "2", "--width", "64", "--height", "64",
            "--out", Path.Combine(Dir, $"{Guid.NewGuid():N}.png"), .. extra]);

    [Fact]
    public void JsonToStdoutIsTheOnlyThingThere()
    {
        var (code, stdout, stderr) = Demo("--json", "-");
        Assert.True(code == 0, stderr);
        Assert.EndsWith("}\n", stdout);
        using var doc = JsonDocument.Parse(stdout); // the whole of stdout is one JSON document
        var files = doc.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.Single(files);
        Assert.True(File.Exists(files[0]));
        Assert.False(File.Exists("-"));
    }

    [Fact]
    public void TheJsonCarriesTheSettingsAndTheInputsWithTheirHashes()
    {
        var (code, stdout, stderr) = Demo("--json", "-", "--batch", "2", "--batch-count", "2", "--seed", "40", "--cfg", "4.5", "--stop-at", "0.5",
            "--prompt", "a cat", "--negative", "a dog", "--sampler", "dpmpp_2m", "--schedule", "karras");
        Assert.True(code == 0, stderr);
        var root = JsonDocument.Parse(stdout).RootElement;
        string[] topKeys = ["command", "version", "device", "commit", "width", "height", "steps", "seed", "method", "settings", "inputs",
            "phase_ms", "managed_heap_bytes", "memory_estimate", "files"];
        Assert.All(topKeys, k => Assert.True(root.TryGetProperty(k, out _), k));
        var s = root.GetProperty("settings");
        string[] settingKeys = ["prompt", "negative", "sampler", "sampler_label", "schedule", "schedule_type", "cfg", "steps", "width", "height",
            "batch", "batch_count", "seed", "seeds", "rng", "method", "weight", "stop_at", "vae_tile", "decoder_batch"];
        Assert.Equal(settingKeys, s.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("a cat", "a dog", "dpmpp_2m", "karras", "Karras"),
            (s.GetProperty("prompt").GetString(), s.GetProperty("negative").GetString(), s.GetProperty("sampler").GetString(),
             s.GetProperty("schedule").GetString(), s.GetProperty("schedule_type").GetString()));
        Assert.Equal(4.5, s.GetProperty("cfg").GetDouble());
        Assert.Equal(0.5, s.GetProperty("stop_at").GetDouble());
        Assert.Equal([40L, 41, 42, 43], s.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(4, root.GetProperty("files").GetArrayLength());
        var inputs = root.GetProperty("inputs").EnumerateArray().ToList();
        Assert.NotEmpty(inputs);
        foreach (var input in inputs)
        {
            string path = input.GetProperty("path").GetString()!;
            Assert.Equal(new FileInfo(path).Length, input.GetProperty("bytes").GetInt64());
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), input.GetProperty("sha256").GetString());
        }
        Assert.Contains(inputs, i => i.GetProperty("option").GetString() == "--demo");
    }

    [Fact]
    public void ProgressJsonlIsOneEventPerStepAndPhaseAndTheStepClockStartsWithSampling()
    {
        var (code, stdout, stderr) = Demo("--progress", "jsonl", "--steps", "3");
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("{", stdout); // the file names, as without --progress
        var events = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var steps = events.Where(e => e.GetProperty("event").GetString() == "step").ToList();
        var phases = events.Where(e => e.GetProperty("event").GetString() == "phase")
            .ToDictionary(e => e.GetProperty("phase").GetString()!, e => e.GetProperty("ms").GetDouble());
        Assert.Equal([1, 2, 3], steps.Select(e => e.GetProperty("step").GetInt32()));
        Assert.All(steps, e => Assert.Equal(3, e.GetProperty("total").GetInt32()));
        Assert.Equal(["text", "condition", "patch", "sample", "vae_decode", "transparent_decode"], phases.Keys);
        // The last step's clock covers sampling alone: not the loading and encoding before it (within timer slack).
        double lastMs = steps[^1].GetProperty("elapsed_s").GetDouble() * 1000;
        Assert.True(lastMs <= phases["sample"] + 50, $"step clock {lastMs} ms > sampling phase {phases["sample"]} ms");
        Assert.All(events, e => Assert.Contains(e.GetProperty("event").GetString(), new[] { "note", "phase", "step" }));
    }

    [Fact]
    public void AnErrorUnderProgressJsonlIsAJsonEventToo()
    {
        var (code, _, stderr) = Demo("--progress", "jsonl", "--sampler", "nope");
        Assert.Equal(ExitCodes.Usage, code);
        var e = JsonDocument.Parse(stderr.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal("error", e.GetProperty("event").GetString());
        Assert.Equal(ExitCodes.Usage, e.GetProperty("exit").GetInt32());
        Assert.Contains("nope", e.GetProperty("message").GetString());
    }

    [Fact]
    public void QuietLeavesStderrEmptyAndVerboseSaysMore()
    {
        var (quiet, quietOut, quietErr) = Demo("--quiet");
        Assert.Equal(0, quiet);
        Assert.Equal("", quietErr);
        Assert.EndsWith(".png\n", quietOut);
        var (verbose, _, verboseErr) = Demo("--verbose", "--progress", "none");
        Assert.Equal(0, verbose);
        Assert.Contains("settings: 64x64, 2 steps", verboseErr);
        Assert.Contains("memory estimate:", verboseErr);
        var (plain, _, plainErr) = Demo("--progress", "none");
        Assert.Equal(0, plain);
        Assert.DoesNotContain("memory estimate:", plainErr);
        Assert.Contains("phase sample", plainErr);
    }
}

/// <summary>Hints that point only where they lead somewhere; self-tests that skip what a backend cannot run.</summary>
public sealed class HonestHintTests
{
    [Theory]
    [InlineData("generate", true)]
    [InlineData("generate --method conv", false)]
    [InlineData("layer --mode fg2ble", false)]
    [InlineData("img2img", false)]
    public void AMissingModelSuggestsTheDemoOnlyWhereItCoversTheRun(string command, bool suggests)
    {
        string dir = TestPaths.TempDir();
        string[] init = command == "img2img" ? ["--init", CliFiles.WritePng(dir, "init.png", 4)] : [];
        var (code, _, stderr) = CliRunner.Run([.. command.Split(' '), .. init, "--tokenizer", CliFiles.Vocab, "--out", Path.Combine(dir, "o.png")]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--model: is required", stderr);
        Assert.Equal(suggests, stderr.Contains("--demo"));
    }

    [Fact]
    public void SelftestOnTheCpuSkipsTheCudaOnlyCasesInsteadOfFailingThem()
    {
        var (code, stdout, _) = CliRunner.Run("selftest", "--device", "cpu", "--filter", "to_bytes|import");
        Assert.Equal(0, code);
        Assert.Contains("SKIP  to_bytes", stdout);
        Assert.Contains("SKIP  import", stdout);
        Assert.Contains("0 failed", stdout);
        Assert.DoesNotContain("FAIL", stdout);
    }
}
