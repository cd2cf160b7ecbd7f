using System.Text.Json;
using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.IO.Outputs;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Pipelines.Memory;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `--json FILE` (or `-` for stdout) of `generate`/`layer`/`img2img`: what ran (the settings, each image's seed,
/// every input file with its size and SHA-256), on what, and how long each phase took. The keys are pinned by
/// tests/Cli/GenerationJsonTests; README "Usage" lists them.
/// </summary>
public static class GenerationJson
{
    /// <summary>`--json -`: the JSON goes to stdout, and nothing else does.</summary>
    public const string Stdout = "-";

    public sealed record Run(string Command, GenerationSettings Settings, OutputPlan Plan, GenerationResult Result, List<string> Files,
        IBackend Backend, WorkingSetEstimate Memory);

    public static byte[] Build(Run run)
    {
        var (s, r) = (run.Settings, run.Result);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("command", run.Command);
            w.WriteString("version", CommandLine.Version);
            w.WriteString("device", run.Backend.Name);
            w.WriteString("commit", BuildInfo.Commit);
            w.WriteNumber("width", s.Width);
            w.WriteNumber("height", s.Height);
            w.WriteNumber("steps", s.Steps);
            w.WriteNumber("seed", s.Seed);
            w.WriteString("method", LayerMethods.Name(s.Method));
            WriteSettings(w, run);
            WriteInputs(w, run.Plan);
            w.WriteStartObject("phase_ms");
            foreach (var (k, v) in r.PhaseMs) w.WriteNumber(k, Math.Round(v, 3));
            w.WriteEndObject();
            if (r.PhasePeakBytes.Count > 0)
            {
                w.WriteStartObject("phase_peak_device_bytes");
                foreach (var (k, v) in r.PhasePeakBytes) w.WriteNumber(k, v);
                w.WriteEndObject();
                w.WriteNumber("peak_device_bytes", r.PeakBytes);
                w.WriteNumber("weights_device_bytes", r.WeightBytes);
                if (r.PeakOverWeights is { } ratio) w.WriteNumber("peak_over_weights", Math.Round(ratio, 4));
            }
            w.WriteNumber("managed_heap_bytes", GC.GetTotalMemory(false));
            // The lower bound the run was admitted on (checked against free memory before anything was loaded).
            w.WriteStartObject("memory_estimate");
            w.WriteString("where", run.Memory.Where);
            w.WriteString("peak_phase", run.Memory.Peak.Phase);
            w.WriteNumber("tensor_bytes", run.Memory.TensorBytes);
            w.WriteNumber("host_bytes", run.Memory.HostBytes);
            w.WriteEndObject();
            w.WriteStartArray("files");
            foreach (var f in run.Files) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>"settings": everything that decides the pixels, as ran (the schedule as resolved, each image's seed).</summary>
    private static void WriteSettings(Utf8JsonWriter w, Run run)
    {
        var s = run.Settings;
        var choice = SamplerChoice.Parse(s.Sampler, s.Schedule);
        w.WriteStartObject("settings");
        w.WriteString("prompt", s.Prompt);
        w.WriteString("negative", s.Negative);
        w.WriteString("sampler", s.Sampler);
        w.WriteString("sampler_label", SamplerDisplay.Name(choice.Sampler));
        w.WriteString("schedule", s.Schedule ?? "automatic");
        w.WriteString("schedule_type", SamplerDisplay.ScheduleType(choice));
        w.WriteNumber("cfg", s.Cfg);
        w.WriteNumber("steps", s.Steps);
        w.WriteNumber("width", s.Width);
        w.WriteNumber("height", s.Height);
        w.WriteNumber("batch", s.Batch);
        w.WriteNumber("batch_count", s.BatchCount);
        w.WriteNumber("seed", s.Seed);
        w.WriteStartArray("seeds");
        foreach (var img in run.Result.Images) w.WriteNumberValue(img.Seed);
        w.WriteEndArray();
        w.WriteString("rng", s.Rng);
        w.WriteString("method", LayerMethods.Name(s.Method));
        w.WriteNumber("weight", s.Weight);
        w.WriteNumber("stop_at", s.StopAt);
        if (run.Command == "img2img") w.WriteNumber("denoise", s.Denoise);
        w.WriteNumber("vae_tile", s.VaeTile);
        w.WriteNumber("decoder_batch", s.DecoderBatch);
        w.WriteEndObject();
    }

    /// <summary>"inputs": every file the run read, under its option, with its size and SHA-256 (cached by path, size and time).</summary>
    private static void WriteInputs(Utf8JsonWriter w, OutputPlan plan)
    {
        var hashes = new FileHashes();
        w.WriteStartArray("inputs");
        foreach (var (option, path) in plan.DeclaredInputs)
        {
            w.WriteStartObject();
            w.WriteString("option", option);
            w.WriteString("path", path);
            w.WriteNumber("bytes", new FileInfo(path).Length);
            w.WriteString("sha256", hashes.Sha256(path));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>--verbose: the resolved settings, the model files and the memory estimate, before the work.</summary>
    public static void Describe(TextWriter log, GenerationSettings s, ModelPaths paths, WorkingSetEstimate memory)
    {
        if (log == TextWriter.Null) return;
        log.WriteLine($"settings: {s.Width}x{s.Height}, {s.Steps} steps, sampler {s.Sampler}, schedule {s.Schedule ?? "automatic"}, cfg {s.Cfg}, " +
            $"seed {s.Seed}, batch {s.Batch} x {s.BatchCount}, rng {s.Rng}, method {LayerMethods.Name(s.Method)}, weight {s.Weight}, stop-at {s.StopAt}");
        foreach (var (what, file) in new[] { ("checkpoint", paths.Checkpoint), ("layer model", paths.LayerModel),
                     ("transparent decoder", paths.TransparentDecoder), ("transparent encoder", paths.TransparentEncoder) })
            if (file is not null) log.WriteLine($"{what}: {file}");
        log.WriteLine($"memory estimate: {memory.TensorBytes / 1048576.0:F1} MiB of tensors on {memory.Where} at the peak ({memory.Peak.Phase}), " +
            $"{memory.HostBytes / 1048576.0:F1} MiB of RAM");
    }
}
