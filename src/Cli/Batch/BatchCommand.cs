using System.Diagnostics;
using System.Text.Json;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `ld batch JOBS.jsonl`: many generate/layer/img2img jobs in one process, the models loaded (and the layer model
/// merged) once per model set and kept while consecutive jobs use them. Each job's outputs land atomically with a
/// record of its settings hash (see <see cref="BatchJob"/>), so a rerun skips finished jobs and a killed batch
/// resumes; a failing job is reported and the batch goes on. One results line per job (JSON Lines) goes to
/// --results. --shard / Slurm / Kubernetes pick this process's share of the jobs (<see cref="BatchShard"/>).
/// </summary>
public static class BatchCommand
{
    /// <summary>The batch's own options; every other option it is given is a default of every job.</summary>
    private static readonly string[] OwnOptions = ["--out-dir", "--results", "--shard", "--shard-count", "--help", "--version"];

    public static int Run(ArgParser p)
    {
        if (p.Positional.Count != 1)
            throw new InvalidOptionException("JOBS.jsonl", p.Positional.Count == 0 ? "ld batch needs a jobs file (ld batch --help)" : "ld batch takes one jobs file");
        string jobsPath = p.Positional[0];
        if (!File.Exists(jobsPath)) throw new InvalidOptionException("JOBS", $"{jobsPath}: file not found") { Kind = ErrorKind.FileAccess };
        string outDir = p.Value("--out-dir");
        if (!Directory.Exists(outDir)) throw new InvalidOptionException("--out-dir", $"{outDir}: no such folder") { Kind = ErrorKind.FileAccess };
        int? shardCount = p.Has("--shard-count") ? p.Int("--shard-count", 1) : null;
        var shard = BatchShard.Resolve(p.Get("--shard"), shardCount, Environment.GetEnvironmentVariable);
        string resultsPath = p.Get("--results") ?? Path.Combine(outDir, $"results{shard.Suffix}.jsonl");
        // Flags are on (null) or left out; values as given.
        // A repeatable option keeps every value (--lora A --lora B: both, as on ld generate).
        var defaults = p.Given.Where(g => !OwnOptions.Contains(g.Option.Name) && !(g.Option.IsFlag && g.Value == "false"))
            .ToDictionary(g => g.Option.Name, g => g.Option.IsFlag ? null
                : BatchJobFile.Repeatable.Contains(g.Option.Name) ? string.Join(BatchJobFile.Separator, p.GetAll(g.Option.Name)) : (string?)g.Value,
                StringComparer.Ordinal);

        var jobs = BatchJobFile.Read(jobsPath, defaults, outDir).Where(j => shard.Owns(j.Ordinal)).ToList();
        Console.Error.WriteLine($"batch: {jobsPath}: shard {shard}: {jobs.Count} jobs -> {outDir} (results: {resultsPath})");

        using var models = new BatchModels();
        using var results = new FileStream(resultsPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        int ran = 0, skipped = 0, failed = 0, images = 0;
        var clock = Stopwatch.StartNew();
        foreach (var spec in jobs)
        {
            var outcome = RunJob(spec, models);
            WriteResult(results, spec, outcome);
            Console.Error.WriteLine($"batch: line {spec.Line}: {outcome.Status}" +
                (outcome.Error is null ? $" ({outcome.Outputs.Count} files, {outcome.TotalMs:F0} ms)" : $": {outcome.Error}"));
            switch (outcome.Status)
            {
                case "ok": ran++; images += outcome.Outputs.Count(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)); break;
                case "skipped": skipped++; break;
                case "cancelled":
                    Console.Error.WriteLine("batch: cancelled; finished jobs are kept and a rerun resumes after them");
                    return 130;
                default: failed++; break;
            }
        }
        double minutes = clock.Elapsed.TotalMinutes;
        Console.Error.WriteLine($"batch: shard {shard}: {ran} ran, {skipped} skipped, {failed} failed in {clock.Elapsed.TotalSeconds:F1} s" +
            (ran > 0 ? $" ({images / minutes:F1} images/min, {models.Loads} model set loads)" : ""));
        return failed == 0 ? CommandLine.ExitOk : CommandLine.ExitUsage;
    }

    private sealed record Outcome(string Status, IReadOnlyList<string> Outputs, double TotalMs, IReadOnlyList<(string Phase, double Ms)> Phases, string? Error);

    private static Outcome RunJob(BatchJobSpec spec, BatchModels models)
    {
        if (spec.Error is not null) return new Outcome("failed", [], 0, [], spec.Error);
        if (BatchJob.IsDone(spec.RecordPath, spec.SettingsHash, out var done)) return new Outcome("skipped", done, 0, [], null);
        var job = new BatchJob(models, spec.Line, spec.SettingsHash, spec.RecordPath);
        var clock = Stopwatch.StartNew();
        string? error = null;
        try
        {
            int code = GenerateCommand.Run(spec.Command!, new ArgParser(spec.Command!, spec.Args), job);
            if (code == 130) return new Outcome("cancelled", [], clock.Elapsed.TotalMilliseconds, [], "cancelled");
            if (code != CommandLine.ExitOk) error = $"exit code {code}";
        }
        catch (Exception e) when (e is LdException or IOException or UnauthorizedAccessException)
        {
            error = SettingNames.Message(e);
        }
        catch (OutOfMemoryException e)
        {
            models.Reset();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            error = $"out of memory: {e.Message}";
        }
        catch (Exception e) when (!DebugOptions.ShowStackTraces)
        {
            error = $"internal error: {e.GetType().Name}: {e.Message}";
        }
        // A job that failed among the networks may have left them half-updated (a merge, a release): start the next clean.
        if (error is not null && job.TouchedModels) models.Reset();
        return error is null
            ? new Outcome("ok", job.Written, clock.Elapsed.TotalMilliseconds, job.PhaseMs, null)
            : new Outcome("failed", [], clock.Elapsed.TotalMilliseconds, [], error);
    }

    private static void WriteResult(FileStream results, BatchJobSpec spec, Outcome o)
    {
        using (var w = new Utf8JsonWriter(results))
        {
            w.WriteStartObject();
            w.WriteNumber("line", spec.Line);
            w.WriteString("command", spec.Command);
            w.WriteString("status", o.Status);
            w.WriteStartArray("outputs");
            foreach (var f in o.Outputs) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteNumber("ms", Math.Round(o.TotalMs, 1));
            w.WriteStartObject("phases_ms");
            foreach (var (phase, ms) in o.Phases) w.WriteNumber(phase, Math.Round(ms, 1));
            w.WriteEndObject();
            if (o.Error is null) w.WriteNull("error"); else w.WriteString("error", o.Error);
            w.WriteString("settings_hash", spec.SettingsHash);
            w.WriteEndObject();
        }
        results.WriteByte((byte)'\n');
        results.Flush(flushToDisk: true);
    }
}
