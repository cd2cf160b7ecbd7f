using LayerDiffusion.Native.Random;

namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// The DPM++ SDE samplers' noise exactly as Forge makes it: k-diffusion's <c>BrownianTreeNoiseSampler</c> with one
/// torchsde <see cref="BrownianTree"/> per image seed (Forge's create_noise_sampler passes the batch's seeds) over
/// [σ_min, σ_max] of the run; the noise for a step σ → σ_next is W(σ_next, σ)·sign/√|σ_next − σ| (float32), a unit
/// normal per element whose values stay consistent however the steps subdivide the interval.
/// </summary>
/// <remarks>
/// Forge routes torchsde's draws through devices.randn_local, so every interval's normals are the first
/// <c>randn</c> of a fresh generator of the generation's RNG source: torch's CPU generator for "CPU", its CUDA
/// Philox generator for "GPU" (<see cref="SeededNoiseSource.RandnLocal"/>).
/// </remarks>
public sealed class BrownianStepNoise : IStepNoise
{
    private readonly BrownianTree[] _trees;

    /// <summary>Trees drawing with torch's CPU generator (Forge's "CPU" RNG source).</summary>
    public BrownianStepNoise(IReadOnlyList<long> seeds, int imageSize, float sigmaMin, float sigmaMax)
        : this(seeds, imageSize, sigmaMin, sigmaMax, TorchCpuRandn, parallelDraws: true) { }

    /// <param name="seeds">One seed per image (A1111/Forge: seed + i).</param>
    /// <param name="imageSize">Elements per image (C·H·W).</param>
    /// <param name="sigmaMin">Smallest positive sigma of the run.</param>
    /// <param name="sigmaMax">Largest sigma of the run.</param>
    /// <param name="randn">The first randn(n) of a fresh generator seeded with the given seed.</param>
    /// <param name="parallelDraws">Whether <paramref name="randn"/> is safe to call from several threads at once.</param>
    public BrownianStepNoise(IReadOnlyList<long> seeds, int imageSize, float sigmaMin, float sigmaMax, Func<long, int, float[]> randn,
        bool parallelDraws = false)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(randn);
        if (seeds.Count < 1) throw new ArgumentException("need at least one seed", nameof(seeds));
        if (!(sigmaMin > 0 && sigmaMax >= sigmaMin)) throw new ArgumentException($"need 0 < sigma_min ≤ sigma_max (got {sigmaMin}, {sigmaMax})");
        _trees = seeds.Select(s => new BrownianTree(s, imageSize, sigmaMin, sigmaMax, randn, parallelDraws)).ToArray();
        ImageSize = imageSize;
    }

    /// <summary>For a run's sigmas (trailing 0 allowed): σ_min = the smallest positive, σ_max = the largest.</summary>
    /// <param name="randn">The normal source (torch's CPU generator when null).</param>
    /// <param name="parallelDraws">Whether a given <paramref name="randn"/> is safe to call from several threads at once.</param>
    public static BrownianStepNoise ForSigmas(IReadOnlyList<long> seeds, int imageSize, ReadOnlySpan<float> sigmas,
        Func<long, int, float[]>? randn = null, bool parallelDraws = false)
    {
        float min = float.PositiveInfinity, max = 0;
        foreach (float s in sigmas)
        {
            if (s > 0 && s < min) min = s;
            if (s > max) max = s;
        }
        if (!(max > 0)) throw new ArgumentException("the sigmas have no positive value", nameof(sigmas));
        return new BrownianStepNoise(seeds, imageSize, min, max, randn ?? TorchCpuRandn, randn is null || parallelDraws);
    }

    private static float[] TorchCpuRandn(long seed, int n) => new TorchCpuGenerator(seed).Randn(n);

    public int ImageSize { get; }

    public float[] Between(float sigma, float sigmaNext)
    {
        float lo = Math.Min(sigma, sigmaNext), hi = Math.Max(sigma, sigmaNext);
        float sign = sigma <= sigmaNext ? 1f : -1f;
        float root = MathF.Sqrt(MathF.Abs(sigmaNext - sigma));
        var result = new float[ImageSize * _trees.Length];
        for (int b = 0; b < _trees.Length; b++)
        {
            var w = _trees[b].Increment(lo, hi);
            for (int i = 0; i < ImageSize; i++) result[b * ImageSize + i] = w[i] * sign / root;
        }
        return result;
    }
}
