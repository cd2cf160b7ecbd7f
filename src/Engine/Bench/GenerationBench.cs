using System.Globalization;
using LayerDiffusion.Native.Pipelines;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// A whole transparent generation through the production pipeline (<see cref="LayerPipeline"/>): both prompts
/// encoded, the layer model merged, N sampler steps with CFG (batch 2 per step), VAE decode, 8-way transparent
/// decode, bytes out. Its own model bundle, loaded and patched during the warm-up (at least one), so the timed runs
/// are steady state with every network resident; the text encoders stay loaded. At the first size only. The record's
/// phases are the last run's (the pipeline's own clock); its first warm-up sample is a first generation (loads,
/// patch merge and, in a JIT build, compilation included).
/// </summary>
public static class GenerationBench
{
    private const int MaxRuns = 3;

    public static void Run(BenchContext ctx)
    {
        var f = ctx.Files;
        var method = ctx.Settings.Method;
        string? patch = method == LayerMethod.Conv ? f.ConvPatch : f.AttentionPatch;
        string? missing = f.Tokenizer is null ? "no tokenizer" : patch is null ? $"no {LayerMethods.Name(method)} layer model" : f.Decoder is null ? "no transparent decoder" : null;
        if (missing is not null)
        {
            ctx.Skipped.Add(("generate", missing));
            return;
        }
        using var models = new ModelBundle(ctx.Backend, new ModelPaths { Checkpoint = f.Checkpoint, LayerModel = patch, TransparentDecoder = f.Decoder }, f.Tokenizer);
        var pipeline = new LayerPipeline(models) { ReleaseTextEncoders = false };
        bool ran = false;
        try
        {
            // One size, the first: a generation is the sum of the other components, and seconds per run.
            foreach (var (w, h) in ctx.Settings.Sizes.Take(1))
            {
                var settings = new GenerationSettings
                {
                    Prompt = TextBench.Prompt, Negative = "bad, ugly", Steps = ctx.Settings.Steps, Width = w, Height = h,
                    Method = method, Seed = 12345, Rng = "cpu",
                };
                GenerationResult? last = null;
                var parameters = BenchParams.Image(1, w, h) with { Steps = settings.Steps, Method = LayerMethods.Name(method) };
                ctx.Runner.Measure("generate", parameters, ctx.Settings.DType,
                    () => { last = pipeline.Run(settings, new GenerationInputs()); ran = true; }, note: null, maxRuns: MaxRuns, minWarmup: 1);
                if (last is not null) ctx.Runner.UpdateLast(r => r with { Phases = Phases(last), Note = WeightsNote(last) });
            }
        }
        finally
        {
            // Only after a run: the networks are loaded and patched then, so freeing them loads nothing.
            if (ran) FreeBundle(models);
        }
    }

    /// <summary>The last run's phases: the pipeline's own clock and, where the backend has an allocator, each phase's peak.</summary>
    private static Dictionary<string, BenchPhase> Phases(GenerationResult r) => r.PhaseMs.ToDictionary(p => p.Key,
        p => new BenchPhase(BenchStats.R(p.Value), r.PhasePeakBytes.TryGetValue(p.Key, out long peak) ? peak : null));

    /// <summary>The VRAM goal's figures: resident weights and the run's peak as a multiple of them (GPU only).</summary>
    private static string? WeightsNote(GenerationResult r) => r.PeakOverWeights is { } ratio
        ? string.Create(CultureInfo.InvariantCulture, $"weights {r.WeightBytes / 1048576.0:F0} MiB, peak {r.PeakBytes / 1048576.0:F0} MiB = {ratio:F2}x weights")
        : null;

    /// <summary>The bundle's UNet, patched copy and VAE (its transparent decoder exposes no weights and is left to the process end).</summary>
    private static void FreeBundle(ModelBundle models)
    {
        models.ReleaseUnets();
        BenchContext.Free(models.Vae.Weights);
    }
}
