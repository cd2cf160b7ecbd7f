namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// Brownian step noise for the DPM++ SDE samplers, A1111/Forge style (BrownianTreeNoiseSampler with per-image
/// seeds): one Brownian motion per image over [σ_min, σ_max]; the noise for a step σ → σ_next is
/// (W(σ_next) − W(σ)) / √|σ_next − σ|, a unit normal per element whose values stay consistent however the steps
/// subdivide the interval.
/// </summary>
public sealed class BrownianStepNoise : IStepNoise
{
    private readonly BrownianTree[] _trees;
    private readonly Dictionary<float, double[][]> _cache = new();

    /// <param name="seeds">One seed per image (A1111: seed + i).</param>
    /// <param name="imageSize">Elements per image (C·H·W).</param>
    /// <param name="sigmaMin">Smallest positive sigma of the run.</param>
    /// <param name="sigmaMax">Largest sigma of the run.</param>
    public BrownianStepNoise(IReadOnlyList<long> seeds, int imageSize, float sigmaMin, float sigmaMax)
    {
        if (seeds.Count < 1) throw new ArgumentException("need at least one seed", nameof(seeds));
        if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) throw new ArgumentException($"need 0 < sigma_min < sigma_max (got {sigmaMin}, {sigmaMax})");
        _trees = seeds.Select(s => new BrownianTree(s, imageSize, sigmaMin, sigmaMax)).ToArray();
        ImageSize = imageSize;
    }

    /// <summary>For a run's sigmas (trailing 0 allowed): σ_min = the smallest positive, σ_max = the largest.</summary>
    public static BrownianStepNoise ForSigmas(IReadOnlyList<long> seeds, int imageSize, ReadOnlySpan<float> sigmas)
    {
        float min = float.PositiveInfinity, max = 0;
        foreach (float s in sigmas)
        {
            if (s > 0 && s < min) min = s;
            if (s > max) max = s;
        }
        // A one-step run has a single positive sigma and never asks for noise; keep the tree well-formed anyway.
        if (!(max > min)) max = min * 2;
        return new BrownianStepNoise(seeds, imageSize, min, max);
    }

    public int ImageSize { get; }

    public float[] Between(float sigma, float sigmaNext)
    {
        var from = ValuesAt(sigma);
        var to = ValuesAt(sigmaNext);
        double scale = 1.0 / Math.Sqrt(Math.Abs((double)sigmaNext - sigma));
        var result = new float[ImageSize * _trees.Length];
        for (int b = 0; b < _trees.Length; b++)
            for (int i = 0; i < ImageSize; i++)
                result[b * ImageSize + i] = (float)((to[b][i] - from[b][i]) * scale);
        return result;
    }

    // Consecutive steps share an endpoint; keep the last few values instead of walking the tree again.
    private double[][] ValuesAt(float sigma)
    {
        if (_cache.TryGetValue(sigma, out var cached)) return cached;
        if (_cache.Count >= 4) _cache.Clear();
        var values = _trees.Select(t => t.ValueAt(sigma)).ToArray();
        _cache[sigma] = values;
        return values;
    }
}
