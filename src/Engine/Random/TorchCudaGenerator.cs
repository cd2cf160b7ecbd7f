namespace LayerDiffusion.Native.Random;

/// <summary>
/// A CPU emulation of PyTorch's CUDA generator (<c>torch.Generator('cuda').manual_seed(seed)</c>) and its float32
/// <c>randn</c>: A1111/Forge's default "GPU" noise source. Successive draws advance the Philox offset as torch does.
/// </summary>
/// <remarks>
/// torch's <c>distribution_nullary_kernel</c> launches blocks of 256 threads on
/// grid = min(SMs · maxThreadsPerSM / 256, ⌈n / 256⌉) blocks; T = 256 · grid threads. Thread i runs
/// <c>curand_init(seed, i, offset)</c> and on its k-th loop iteration one <c>curand_normal4</c> whose component c
/// goes to element i + k·4T + c·T. The generator offset then advances by 4·⌈n / 4T⌉.
/// Whenever n ≤ T (every SDXL latent up to 2048² on an H100/H200) element i is simply the first component for
/// subsequence i; beyond that the layout depends on the GPU's SM count, so GPU-source seeds are not portable across
/// cards. The default 132 SMs (2048 threads each) is the H100/H200 SXM the golden data were made on.
/// </remarks>
public sealed class TorchCudaGenerator
{
    public const int DefaultSmCount = 132;
    public const int DefaultMaxThreadsPerSm = 2048;
    private const int BlockSize = 256;
    private const int Unroll = 4; // curand_normal4 gives four values per call

    public TorchCudaGenerator(long seed, int smCount = DefaultSmCount, int maxThreadsPerSm = DefaultMaxThreadsPerSm)
    {
        if (smCount < 1) throw new ArgumentOutOfRangeException(nameof(smCount), "SM count must be at least 1");
        if (maxThreadsPerSm < BlockSize) throw new ArgumentOutOfRangeException(nameof(maxThreadsPerSm));
        Seed = seed;
        SmCount = smCount;
        MaxThreadsPerSm = maxThreadsPerSm;
    }

    /// <summary>A generator whose draws run on <paramref name="device"/>, laid out for that device's SM count.</summary>
    public TorchCudaGenerator(long seed, IPhiloxNormalDevice device)
        : this(seed, device.MultiprocessorCount, Math.Max(device.MaxThreadsPerMultiprocessor, BlockSize)) => _device = device;

    private readonly IPhiloxNormalDevice? _device;

    public long Seed { get; }
    public int SmCount { get; }
    public int MaxThreadsPerSm { get; }

    /// <summary>The Philox offset (in 32-bit outputs) the next draw starts at; 0 after seeding.</summary>
    public ulong Offset { get; private set; }

    /// <summary>The launch geometry torch would use for n elements: threads T and the offset increment.</summary>
    public (long Threads, ulong OffsetIncrement) LaunchFor(long n)
    {
        long blocks = Math.Max(1, (n + BlockSize - 1) / BlockSize);
        long maxBlocks = (long)SmCount * (MaxThreadsPerSm / BlockSize);
        long grid = Math.Min(blocks, maxBlocks);
        long threads = grid * BlockSize;
        ulong increment = (ulong)(((Math.Max(n, 1) - 1) / (threads * Unroll) + 1) * Unroll);
        return (threads, increment);
    }

    /// <summary><c>torch.randn(n, device='cuda', generator=this)</c>, row-major for any shape of n elements.</summary>
    public float[] Randn(int numel)
    {
        if (numel < 0) throw new ArgumentOutOfRangeException(nameof(numel));
        var (threads, increment) = LaunchFor(numel);
        ulong baseBlock = Offset / 4;
        Offset += increment;
        if (numel == 0) return [];
        ulong seed = unchecked((ulong)Seed);
        return _device is not null ? _device.PhiloxNormal(seed, baseBlock, threads, numel) : PhiloxNormal(seed, baseBlock, threads, numel);
    }

    /// <summary>
    /// The draw itself on the CPU (the reference for <see cref="IPhiloxNormalDevice.PhiloxNormal"/>): torch thread
    /// i &lt; <paramref name="threads"/> runs from Philox block <paramref name="baseBlock"/> with subsequence i, and
    /// its k-th normal4 fills elements i + k·4T + c·T.
    /// </summary>
    public static float[] PhiloxNormal(ulong seed, ulong baseBlock, long threads, int numel)
    {
        var data = new float[numel];
        if (numel == 0) return data;
        long stride = threads * Unroll;
        long rounded = ((numel - 1) / stride + 1) * stride;
        Parallel.For(0L, Math.Min(threads, numel), idx =>
        {
            ulong block = baseBlock;
            for (long linear = idx; linear < rounded; linear += stride, block++)
            {
                var v = Philox.Normal4(seed, (ulong)idx, block);
                Store(data, linear, v.X);
                Store(data, linear + threads, v.Y);
                Store(data, linear + 2 * threads, v.Z);
                Store(data, linear + 3 * threads, v.W);
            }
        });
        return data;
    }

    /// <summary>Advances the offset exactly as a draw of n elements would, without computing it.</summary>
    public void Skip(int numel) => Offset += LaunchFor(numel).OffsetIncrement;

    private static void Store(float[] data, long index, float value)
    {
        if (index < data.Length) data[index] = value;
    }
}
