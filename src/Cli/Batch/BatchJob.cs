using System.Text.Json;
using LayerDiffusion.Native.IO.Outputs;
using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Pipelines.Memory;
using LayerDiffusion.Native.Text;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// One job of `ld batch` as GenerateCommand sees it: where its models come from, and its record — a small JSON file
/// beside the outputs (OUT.ld-job.json) with the job's settings hash and the files it wrote. The record is declared
/// and staged in the job's own output transaction, so it lands with the outputs or not at all: a record whose hash
/// matches and whose files exist means the job is done, and a rerun skips it.
/// </summary>
public sealed class BatchJob(BatchModels models, int line, string settingsHash, string recordPath)
{
    public BatchModels Models { get; } = models;
    public int Line { get; } = line;
    public string SettingsHash { get; } = settingsHash;
    public string RecordPath { get; } = recordPath;

    /// <summary>The files the job wrote, once it committed.</summary>
    public IReadOnlyList<string> Written { get; private set; } = [];
    public IReadOnlyList<(string Phase, double Ms)> PhaseMs { get; private set; } = [];

    /// <summary>Set once the job reached its models (a failure past this point resets the batch's model cache).</summary>
    public bool TouchedModels { get; private set; }

    internal ITokenizer Tokenizer(string? path) => Models.Tokenizer(path);

    internal IBackend Backend(string device, Precision? precision)
    {
        TouchedModels = true;
        return Models.Backend(device, precision);
    }

    /// <summary>
    /// The up-front memory check of a job whose model set may already be resident: the estimate counts the weights,
    /// which the device's free memory no longer includes once an earlier job loaded them, so they are counted as
    /// available (they are what this job will use).
    /// </summary>
    internal void CheckMemory(WorkingSetEstimate need, GenerationSettings settings, IBackend backend)
    {
        var device = AvailableMemory.DeviceBytes(backend);
        if (device is { } d && backend is IBackendDiagnostics diagnostics) device = (d.Free + diagnostics.WeightBytes, d.Device);
        MemoryCheck.Require(need, settings, AvailableMemory.HostBytes(), device);
    }

    internal ModelBundle Bundle(IBackend backend, ModelPaths paths, string? tokenizerPath, ITokenizer tokenizer) =>
        Models.Bundle(backend, paths, tokenizerPath, tokenizer);

    internal void Declare(OutputPlan plan) => plan.Output("out", RecordPath);

    internal void Stage(OutputTransaction writes, IReadOnlyList<string> written) =>
        writes.Stage(RecordPath, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteNumber("line", Line);
            w.WriteString("settings_hash", SettingsHash);
            w.WriteString("commit", BuildInfo.Commit);
            w.WriteStartArray("outputs"); // relative to the record's folder, so a moved output folder still resumes
            string dir = Path.GetDirectoryName(Path.GetFullPath(RecordPath))!;
            foreach (var f in written) w.WriteStringValue(Path.GetRelativePath(dir, Path.GetFullPath(f)));
            w.WriteEndArray();
            w.WriteEndObject();
        });

    internal void Completed(IReadOnlyList<string> written, GenerationResult result)
    {
        Written = written.ToList();
        PhaseMs = result.PhaseMs.Select(kv => (kv.Key, kv.Value)).ToList();
    }

    /// <summary>True when an earlier run finished this job with the same settings: its record matches and every
    /// file it lists is still there.</summary>
    public static bool IsDone(string recordPath, string settingsHash, out List<string> outputs)
    {
        outputs = [];
        if (!File.Exists(recordPath)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(recordPath));
            var root = doc.RootElement;
            if (root.GetProperty("settings_hash").GetString() != settingsHash) return false;
            string dir = Path.GetDirectoryName(Path.GetFullPath(recordPath))!;
            foreach (var f in root.GetProperty("outputs").EnumerateArray())
                outputs.Add(Path.Combine(dir, f.GetString() ?? ""));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false; // not a record of ours: run the job (its transaction replaces the file)
        }
        return outputs.Count > 0 && outputs.All(File.Exists);
    }
}
