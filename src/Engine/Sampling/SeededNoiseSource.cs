using LayerDiffusion.Native.Random;

namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// A1111/Forge's per-image noise (modules/rng.py ImageRNG): image i of a batch has its own torch generator seeded
/// with seed + i; each draw is one randn(C, H, W) per image, stacked. Draw 1 is the initial noise; later draws are
/// the ancestral samplers' noise. With an eta noise seed delta (ENSD) the generators are re-seeded with
/// seed + i + delta after the initial noise, as A1111 does.
/// </summary>
public sealed class SeededNoiseSource : INoiseSource
{
    private readonly Func<long, Func<int, float[]>> _newGenerator;
    private Func<int, float[]>[] _generators;
    private bool _first = true;

    /// <param name="imageShape">[C, H, W] of one latent.</param>
    /// <param name="smCount">GPU source computed on the CPU only: the SM count whose launch grid lays out large
    /// tensors (H100/H200: 132).</param>
    /// <param name="device">GPU source only: when given, the draws run on this GPU, laid out for its own SM count.</param>
    public SeededNoiseSource(long seed, int batch, int[] imageShape, RngSource source,
        long etaNoiseSeedDelta = 0, int smCount = TorchCudaGenerator.DefaultSmCount, IPhiloxNormalDevice? device = null)
    {
        if (batch < 1) throw new InvalidOptionException("batch", $"must be at least 1 (got {batch})");
        ArgumentNullException.ThrowIfNull(imageShape);
        long n = 1;
        foreach (int d in imageShape)
        {
            if (d < 1) throw new ArgumentException($"bad latent shape [{string.Join(", ", imageShape)}]", nameof(imageShape));
            n *= d;
        }
        ImageSize = checked((int)n);
        Seeds = Enumerable.Range(0, batch).Select(i => unchecked(seed + i)).ToArray();
        Source = source;
        EtaNoiseSeedDelta = etaNoiseSeedDelta;
        _newGenerator = source switch
        {
            RngSource.Cpu => s => new TorchCpuGenerator(s).Randn,
            RngSource.Gpu when device is not null => s => new TorchCudaGenerator(s, device).Randn,
            RngSource.Gpu => s => new TorchCudaGenerator(s, smCount).Randn,
            _ => throw new ArgumentOutOfRangeException(nameof(source)),
        };
        _generators = Seeds.Select(_newGenerator).ToArray();
        RandnLocalIsThreadSafe = device is null || source == RngSource.Cpu;
    }

    /// <summary>The per-image seeds, seed + i.</summary>
    public IReadOnlyList<long> Seeds { get; }
    public int ImageSize { get; }
    public RngSource Source { get; }
    public long EtaNoiseSeedDelta { get; }

    /// <summary>
    /// Forge's devices.randn_local: the first randn(<paramref name="count"/>) of a fresh generator seeded with
    /// <paramref name="seed"/> on this source (torchsde's per-interval draws go through it).
    /// </summary>
    public float[] RandnLocal(long seed, int count) => _newGenerator(seed)(count);

    /// <summary>Whether <see cref="RandnLocal"/> may run on several threads at once (host generators; not a GPU device).</summary>
    public bool RandnLocalIsThreadSafe { get; }

    public float[] Next()
    {
        var result = new float[ImageSize * _generators.Length];
        for (int i = 0; i < _generators.Length; i++) _generators[i](ImageSize).CopyTo(result, i * ImageSize);
        if (_first)
        {
            _first = false;
            if (EtaNoiseSeedDelta != 0) _generators = Seeds.Select(s => _newGenerator(unchecked(s + EtaNoiseSeedDelta))).ToArray();
        }
        return result;
    }
}
