using LayerDiffusion.Native.Bench;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `ld bench`: per-component timings (every sample and its statistics after warm-up; CUDA events on a GPU) and peak
/// memory, as bench JSON v1 (perf/bench-v1.schema.json) and a Markdown table rendered from the same data; `--reference` adds ratios to perf/torch_reference.py's JSON. perf/README.md
/// explains the components and conventions.
/// </summary>
public static class BenchCommand
{
    public static int Run(ArgParser p)
    {
        if (p.Flag("--list"))
        {
            foreach (var c in BenchComponents.All) Console.WriteLine($"{c.Name,-12} {c.Summary}");
            return CommandLine.ExitOk;
        }

        if (p.Get("--results") is { } resultsPath)
        {
            // Compare two files already written: no measuring.
            var reference = p.Get("--reference") ?? throw new InvalidOptionException("--results", "compares with --reference FILE.json; give both");
            Compare(BenchJson.Read(resultsPath).Records, reference, p.Get("--ratios"), p.Get("--markdown"));
            return CommandLine.ExitOk;
        }

        var options = Options(p) with { CommandLine = "ld bench " + string.Join(' ', p.Args.Select(Quote)) };
        CheckWritable("--ratios", p.Get("--ratios"));
        var result = Measure("bench", options, p.Get("--json"), p.Get("--markdown"), CliLog.For(p).Notes);
        if (p.Get("--reference") is { } refPath) Compare(result.Records, refPath, p.Get("--ratios"), p.Get("--markdown"));
        return result.Failed.Count > 0 ? CommandLine.ExitFailed : CommandLine.ExitOk;
    }

    /// <summary>
    /// Runs a bench session (`ld bench`, `ld profile`): partial JSON after each component, then the JSON and the
    /// Markdown rendered from it (stdout, and <paramref name="markdown"/> when given), with what was skipped or failed.
    /// </summary>
    /// <param name="log">Progress and notes (stderr, nothing with --quiet).</param>
    internal static BenchResult Measure(string command, BenchOptions options, string? json, string? markdown, TextWriter log)
    {
        CheckWritable("--json", json);
        CheckWritable("--markdown", markdown);
        var result = BenchSession.Run(options, log, json is null ? null : file => BenchJson.Write(json, file));
        if (result.Records.Count == 0 && result.Failed.Count == 0)
            Console.Error.WriteLine($"{command}: nothing was measured (every selected component was skipped)");

        var md = BenchReport.Markdown(result.File);
        foreach (var (c, why) in result.Skipped) md += $"\nskipped {c}: {why}";
        foreach (var (c, err) in result.Failed) md += $"\nFAILED {c}: {err}";
        if (json is not null) BenchJson.Write(json, result.File);
        Console.WriteLine(md);
        if (markdown is not null) File.WriteAllText(markdown, md + Environment.NewLine);
        return result;
    }

    private static BenchOptions Options(ArgParser p) =>
        CommonOptions(p) with
        {
            Sizes = p.Get("--size") is { } sizes ? BenchOptions.ParseSizes("--size", sizes) : null,
            Batches = p.Get("--batch") is { } batches ? BenchOptions.ParseInts("--batch", batches, 64) : null,
            Components = p.Value("--components"),
            Steps = p.Int("--steps"),
            Method = p.Value("--method") switch
            {
                "attn" => LayerMethod.Attn,
                "conv" => LayerMethod.Conv,
                var m => throw new InvalidOptionException("--method", $"'{m}' is not one of attn, conv"),
            },
        };

    /// <summary>The options `ld bench` and `ld profile` share: device, precision, which weights, run counts, work folder.</summary>
    internal static BenchOptions CommonOptions(ArgParser p)
    {
        var device = p.Value("--device");
        if (device is not ("auto" or "cpu" or "cuda")) throw new InvalidOptionException("--device", $"'{device}' is not one of auto, cpu, cuda");
        BenchUserModels? models = null;
        string[] fileOptions = ["--tokenizer", "--layer-model", "--conv-layer-model", "--transparent-decoder", "--transparent-encoder", "--models-dir"];
        if (p.Get("--model") is { } ckpt)
            models = new BenchUserModels(ckpt, p.Get("--tokenizer"), p.Get("--layer-model"), p.Get("--conv-layer-model"),
                p.Get("--transparent-decoder"), p.Get("--transparent-encoder"), p.Get("--models-dir"));
        else if (fileOptions.FirstOrDefault(p.Has) is { } stray)
            throw new InvalidOptionException(stray, "needs --model CHECKPOINT (without model files synthetic weights are used)");
        return new BenchOptions
        {
            Device = device,
            Precision = p.Get("--precision") is { } prec ? PrecisionMode.Parse(prec) : null,
            Synthetic = p.Flag("--synthetic"),
            Tiny = p.Flag("--tiny"),
            Models = models,
            Warmup = p.Has("--warmup") ? p.Int("--warmup") : null,
            Runs = p.Has("--runs") ? p.Int("--runs") : null,
            WorkDir = p.Get("--work-dir"),
        };
    }

    private static void Compare(IReadOnlyList<BenchRecord> ours, string referencePath, string? ratiosPath, string? markdownPath)
    {
        var reference = BenchJson.Read(referencePath);
        var ratios = ReferenceComparison.Compare(ours, reference.Records);
        string device = reference.Context.Device ?? (reference.Records.Count > 0 ? reference.Records[0].Device : "?");
        var md = ReferenceComparison.Markdown(ratios, device);
        Console.WriteLine();
        Console.WriteLine(md);
        if (ratiosPath is not null) ReferenceComparison.WriteJson(ratiosPath, ratios);
        if (markdownPath is not null) File.AppendAllText(markdownPath, Environment.NewLine + md);
    }

    /// <summary>An argument as a shell would need it to round-trip (single quotes around anything unusual).</summary>
    internal static string Quote(string a) =>
        a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./,=:+@%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";

    internal static void CheckWritable(string option, string? path)
    {
        if (path is null) return;
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir)) throw new InvalidOptionException(option, $"{dir}: no such folder");
    }

    /// <summary>What `ld bench --help` says after the options.</summary>
    public static string[] Notes =>
    [
        "Without model files: random weights; tiny sizes on the CPU (or --tiny), the released SDXL/UNet1024 shapes on a GPU",
        "(or --synthetic), written once under --work-dir.",
        $"Components: {BenchComponents.Names}. See perf/README.md.",
    ];
}
