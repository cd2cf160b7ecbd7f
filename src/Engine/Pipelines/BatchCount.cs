namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// Forge's "Batch count" (processing.py n_iter): <see cref="GenerationSettings.BatchCount"/> sampling runs one after
/// another, run k with the batch's seeds Seed + k·Batch + j (Forge's all_seeds[k·B:(k+1)·B]), each image with its own
/// generators and Brownian trees, so an image is the same whether it was made in a big batch or a later run.
/// </summary>
public static class BatchCount
{
    /// <summary>The settings of each run: one batch each, seeds continuing where the previous run stopped.</summary>
    public static IEnumerable<GenerationSettings> Runs(GenerationSettings s)
    {
        s.Validate();
        for (int k = 0; k < s.BatchCount; k++) yield return s with { Seed = s.Seed + (long)k * s.Batch, BatchCount = 1 };
    }

    /// <summary>
    /// Runs every batch and joins the results in order (noise, latents and images concatenated; phase times summed,
    /// peaks the largest). <paramref name="runOne"/> gets each run's settings and index (its first image is
    /// index · Batch), and can tell the last run (index BatchCount − 1), so weights can stay loaded until then.
    /// </summary>
    public static GenerationResult Run(GenerationSettings s, Func<GenerationSettings, int, GenerationResult> runOne)
    {
        var runs = Runs(s).ToList();
        var parts = new List<GenerationResult>(runs.Count);
        for (int k = 0; k < runs.Count; k++) parts.Add(runOne(runs[k], k));
        return parts.Count == 1 ? parts[0] : Join(parts);
    }

    private static GenerationResult Join(List<GenerationResult> parts)
    {
        var phaseMs = new Dictionary<string, double>();
        var peaks = new Dictionary<string, long>();
        foreach (var p in parts)
        {
            foreach (var (k, v) in p.PhaseMs) phaseMs[k] = phaseMs.GetValueOrDefault(k) + v;
            foreach (var (k, v) in p.PhasePeakBytes) peaks[k] = Math.Max(peaks.GetValueOrDefault(k), v);
        }
        return new GenerationResult
        {
            Family = parts[0].Family,
            Width = parts[0].Width,
            Height = parts[0].Height,
            Noise = [.. parts.SelectMany(p => p.Noise)],
            Positive = parts[0].Positive,
            Negative = parts[0].Negative,
            Latent = [.. parts.SelectMany(p => p.Latent)],
            Images = [.. parts.SelectMany(p => p.Images)],
            PatchedCalls = [.. parts.SelectMany(p => p.PatchedCalls)],
            PhaseMs = phaseMs,
            PhasePeakBytes = peaks,
            WeightBytes = parts.Max(p => p.WeightBytes),
        };
    }
}
