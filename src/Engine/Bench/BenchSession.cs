using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Backends.Ledger;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Text;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Bench;

/// <summary>What a bench run produced: the records, what was skipped or failed and why, and what was measured.</summary>
public sealed record BenchResult(BenchEnvironment Context, IReadOnlyList<BenchRecord> Records, IReadOnlyList<(string Component, string Why)> Skipped,
    IReadOnlyList<(string Component, string Error)> Failed, bool NvtxRanges)
{
    public BenchFile File => new() { SchemaVersion = BenchFile.CurrentVersion, Context = Context, Records = Records };
}

/// <summary>
/// One `ld bench` run: picks the backend, the models (real files, or synthetic weights: the demo's tiny sizes on
/// the CPU by default or with --tiny, the released shapes with --synthetic and by default on a GPU), the sizes and run counts,
/// then runs each selected component in order, freeing networks no later component needs so every phase's peak
/// holds only its own. A component that fails is reported and the run goes on (a GPU session is too short to lose).
/// Defaults: CPU warm-up 1, runs 5, sizes 128x128,128x192; GPU warm-up 3, runs 10, sizes 1024x1024,896x1152;
/// batches 1,2.
/// </summary>
public static class BenchSession
{
    public static IReadOnlyList<(int, int)> TinySizes { get; } = [(128, 128), (128, 192)];
    public static IReadOnlyList<(int, int)> RealSizes { get; } = [(1024, 1024), (896, 1152)];

    /// <param name="progress">called with the file so far after each component (write partial results there)</param>
    public static BenchResult Run(BenchOptions o, TextWriter log, Action<BenchFile>? progress = null)
    {
        var components = BenchComponents.Select(o.Components);
        if (o.Synthetic && o.Tiny) throw new InvalidOptionException("--tiny", "cannot be combined with --synthetic (the released shapes)");
        if (o.Models is not null && (o.Synthetic || o.Tiny)) throw new InvalidOptionException(o.Synthetic ? "--synthetic" : "--tiny", "cannot be combined with model files");
        var precision = o.Precision ?? DeviceSelection.DefaultPrecision(o.Device);
        using var backend = DeviceSelection.Create(o.Device, precision, log);
        // With a ledger every component runs through a recorder over the backend (models loaded through it too).
        var ledger = o.Ledger ? new OpLedger() : null;
        using var recorder = ledger is null ? null : RecordingBackend.Wrap(backend, ledger);
        IBackend measured = (IBackend?)recorder ?? backend;
        bool cpu = backend is CpuBackend;
        string dtype = cpu ? "fp32" : precision.ToString().ToLowerInvariant();
        bool nvtx = Profiling.Nvtx.Enabled;
        if (!cpu || nvtx) log.WriteLine($"nvtx: {Profiling.Nvtx.Status}");

        var profile = o.Tiny || (cpu && !o.Synthetic) ? BenchProfile.Tiny : BenchProfile.Real;
        var wanted = components.Aggregate(BenchFiles.None, (acc, c) => acc | c.Files);
        if (components.Any(c => c.Name == "generate"))   // and the layer model of the generation's method
            wanted |= o.Method == LayerMethod.Conv ? BenchFiles.ConvPatch : BenchFiles.AttentionPatch;
        var files = o.Models is { } m ? FromUser(m) : SyntheticBenchModels.Ensure(profile, o.WorkDir ?? SyntheticBenchModels.DefaultWorkDir, log, wanted);
        bool tiny = o.Models is null && profile == BenchProfile.Tiny;
        var settings = new BenchSettings
        {
            // A ledger (`ld profile`) is taken at one size: the first default one unless sizes are given.
            Sizes = o.Sizes ?? (tiny ? TinySizes : RealSizes).Take(o.Ledger ? 1 : int.MaxValue).ToList(),
            Batches = o.Batches ?? [1, 2],
            Steps = o.Steps,
            Method = o.Method,
            DType = dtype,
        };
        var runner = new BenchRunner(measured, o.Warmup ?? (cpu ? 1 : 3), o.Runs ?? (cpu ? 5 : 10), log, ledger);
        log.WriteLine($"bench: {runner.DeviceName}, {dtype}, warm-up {runner.Warmup}, runs {runner.Runs}; models: {files.Description}");
        var context = BenchEnvironment.Capture(backend, o.CommandLine, runner.Warmup, runner.Runs, runner.DeviceName, files.Description);
        BenchFile Snapshot() => new() { SchemaVersion = BenchFile.CurrentVersion, Context = context, Records = runner.Records.ToList() };

        var failed = new List<(string, string)>();
        using var ctx = new BenchContext(measured, runner, files, settings, log);
        for (int i = 0; i < components.Count; i++)
        {
            var keep = components.Skip(i).Aggregate(BenchNeeds.None, (acc, c) => acc | c.Needs);
            ctx.Release(keep);
            try
            {
                components[i].Run(ctx);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log.WriteLine($"{components[i].Name}: FAILED: {e.GetType().Name}: {e.Message}");
                failed.Add((components[i].Name, $"{e.GetType().Name}: {e.Message}"));
            }
            progress?.Invoke(Snapshot());
        }
        foreach (var (c, why) in ctx.Skipped) log.WriteLine($"{c}: skipped ({why})");
        return new BenchResult(context, runner.Records, ctx.Skipped, failed, nvtx);
    }

    private static BenchModelFiles FromUser(BenchUserModels m)
    {
        string Need(string option, string path) => File.Exists(path) ? path : throw new InvalidOptionException(option, $"{path}: file not found");
        string? Opt(string option, string? path) => path is null ? null : Need(option, path);
        string? InDir(string name)
        {
            if (m.ModelsDir is null) return null;
            if (!Directory.Exists(m.ModelsDir)) throw new InvalidOptionException("--models-dir", $"{m.ModelsDir}: no such folder");
            string p = Path.Combine(m.ModelsDir, name);
            return File.Exists(p) ? p : null;
        }
        return new BenchModelFiles
        {
            Checkpoint = Need("--model", m.Checkpoint),
            Tokenizer = m.Tokenizer is null ? null : ClipTokenizer.Load(m.Tokenizer),
            AttentionPatch = Opt("--layer-model", m.LayerModel) ?? InDir(LayerMethods.PatchFileName(LayerMethod.Attn)),
            ConvPatch = Opt("--conv-layer-model", m.ConvLayerModel) ?? InDir(LayerMethods.PatchFileName(LayerMethod.Conv)),
            Decoder = Opt("--transparent-decoder", m.Decoder) ?? InDir(LayerMethods.DecoderFileName),
            Encoder = Opt("--transparent-encoder", m.Encoder) ?? InDir(LayerMethods.EncoderFileName),
            Description = $"files: {Path.GetFileName(m.Checkpoint)}",
        };
    }
}
