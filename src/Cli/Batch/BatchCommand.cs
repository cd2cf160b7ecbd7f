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
    private static readonly string[] OwnOptions = ["--out-dir", "--results", "--shard", "--shard-count"];

    public static int Run(string[] args)
    {
        var (jobsPath, own, defaults) = SplitArgs(args);
        if (jobsPath is null) { Help(); return own.ContainsKey("--help") ? CommandLine.ExitOk : CommandLine.ExitUsage; }
        if (!File.Exists(jobsPath)) throw new InvalidOptionException("JOBS", $"{jobsPath}: file not found");
        string outDir = own.GetValueOrDefault("--out-dir") ?? ".";
        if (!Directory.Exists(outDir)) throw new InvalidOptionException("--out-dir", $"{outDir}: no such folder");
        int? shardCount = own.GetValueOrDefault("--shard-count") is { } sc
            ? int.TryParse(sc, out int n) && n >= 1 ? n : throw new InvalidOptionException("--shard-count", $"'{sc}' is not a positive integer")
            : null;
        var shard = BatchShard.Resolve(own.GetValueOrDefault("--shard"), shardCount, Environment.GetEnvironmentVariable);
        string resultsPath = own.GetValueOrDefault("--results") ?? Path.Combine(outDir, $"results{shard.Suffix}.jsonl");

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
            int code = GenerateCommand.Run(spec.Command!, spec.Args, job);
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

    /// <summary>Splits the command line into the jobs file, the batch's own options and the jobs' defaults.</summary>
    private static (string? Jobs, Dictionary<string, string?> Own, Dictionary<string, string?> Defaults) SplitArgs(string[] args)
    {
        string? jobs = null;
        var own = new Dictionary<string, string?>(StringComparer.Ordinal);
        var defaults = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "--help" or "-h") { own["--help"] = null; return (null, own, defaults); }
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                if (jobs is not null) throw new InvalidOptionException(a, "unexpected argument for 'batch' (one jobs file)");
                jobs = a;
                continue;
            }
            string name = a;
            string? value = null;
            int eq = a.IndexOf('=');
            if (eq > 0) { name = a[..eq]; value = a[(eq + 1)..]; }
            bool isOwn = OwnOptions.Contains(name);
            if (!isOwn && !BatchJobFile.JobOptions.ContainsKey(name))
                throw new InvalidOptionException(name, $"unknown option for 'batch' (its own: {string.Join(" ", OwnOptions)}; any option of generate/layer/img2img sets every job's default)");
            if (name == "--out") throw new InvalidOptionException("--out", "name each job's output in the job (\"out\") or let the batch name it line-NNNNN.png in --out-dir");
            bool flag = !isOwn && BatchJobFile.JobOptions[name];
            if (flag)
            {
                if (value is null or "true") defaults[name] = null; else defaults.Remove(name);
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Length) throw new InvalidOptionException(name, "needs a value");
                value = args[++i];
            }
            (isOwn ? own : defaults)[name] = value;
        }
        return (jobs, own, defaults);
    }

    private static void Help()
    {
        Console.WriteLine("ld batch JOBS.jsonl [--out-dir DIR] [--results FILE] [--shard INDEX/COUNT | --shard-count N] [job defaults]");
        Console.WriteLine("  JOBS.jsonl: one JSON object per line, keys = long options of generate/layer/img2img without dashes,");
        Console.WriteLine("              plus \"command\" (generate, layer or img2img; default generate), e.g.");
        Console.WriteLine("              {\"prompt\": \"a glass bottle\", \"seed\": 7, \"out\": \"bottle.png\"}");
        Console.WriteLine("  job defaults: any option of generate/layer/img2img (--demo, --model, --models-dir, --steps, ...)");
        Console.WriteLine("  --out-dir DIR      where outputs go (job \"out\" is relative to it; default line-NNNNN.png), default .");
        Console.WriteLine("  --results FILE     one JSON line per job (status, outputs, ms, error); default DIR/results[.shard-I-of-N].jsonl");
        Console.WriteLine("  --shard I/N        run jobs I, I+N, I+2N, ... (default: from SLURM_ARRAY_TASK_ID/COUNT, or");
        Console.WriteLine("  --shard-count N    JOB_COMPLETION_INDEX of a Kubernetes Indexed Job with N completions)");
        Console.WriteLine("A rerun skips jobs whose outputs and OUT.ld-job.json record exist with the same settings.");
    }
}
