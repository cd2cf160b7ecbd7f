namespace LayerDiffusion.Native.Random;

/// <summary>
/// PyTorch's CPU generator (<c>torch.Generator().manual_seed(seed)</c>) and its float32 <c>randn</c>:
/// successive draws continue the same MT19937 stream exactly as torch does, including the cached second
/// Box–Muller value of the small-tensor path.
/// </summary>
/// <remarks>
/// Two paths, as in ATen's <c>normal_kernel</c> (cpu/DistributionTemplates.h):
/// <list type="bullet">
/// <item>numel ≥ 16 (<c>normal_fill</c>): one 24-bit uniform per element first, then Box–Muller over blocks of 16
/// (element j pairs with j + 8); if numel % 16 ≠ 0 the last 16 slots get fresh uniforms and are redone.</item>
/// <item>numel &lt; 16: per element a double-precision normal from two 53-bit uniforms; the sine half is cached in
/// the generator and returned by the next such draw.</item>
/// </list>
/// torch computes the first path with vectorised float log/sin/cos whose last bit depends on the build and CPU;
/// correctly rounded float functions land within ~5e-7 of it (see research/sdxl.md §7.2).
/// </remarks>
public sealed class TorchCpuGenerator
{
    private const float TwoPiF = (float)(2.0 * Math.PI);
    private readonly Mt19937 _engine;
    private double? _nextDoubleNormal;

    /// <summary>Seeds like <c>manual_seed</c>: a negative seed is taken as its two's-complement uint64.</summary>
    public TorchCpuGenerator(long seed)
    {
        Seed = seed;
        _engine = new Mt19937(unchecked((ulong)seed));
    }

    public long Seed { get; }

    /// <summary><c>torch.randn(numel)</c> (any shape with that element count; the layout is row-major).</summary>
    public float[] Randn(int numel)
    {
        if (numel < 0) throw new ArgumentOutOfRangeException(nameof(numel));
        var data = new float[numel];
        if (numel >= 16) NormalFill(data);
        else
            for (int i = 0; i < numel; i++) data[i] = (float)NextDoubleNormal();
        return data;
    }

    /// <summary>A 24-bit float uniform in [0, 1), torch's <c>uniform_real_distribution&lt;float&gt;</c>.</summary>
    private float NextUniformFloat() => (_engine.NextUInt32() & 0xFFFFFFu) * (1.0f / (1 << 24));

    /// <summary>A 53-bit double uniform in [0, 1), torch's <c>uniform_real_distribution&lt;double&gt;</c>.</summary>
    private double NextUniformDouble() => (_engine.NextUInt64() & ((1UL << 53) - 1)) * (1.0 / (1UL << 53));

    private void NormalFill(float[] data)
    {
        int n = data.Length;
        for (int i = 0; i < n; i++) data[i] = NextUniformFloat();
        for (int i = 0; i + 16 <= n; i += 16) NormalFill16(data.AsSpan(i, 16));
        if (n % 16 != 0)
        {
            var tail = data.AsSpan(n - 16, 16);
            for (int i = 0; i < 16; i++) tail[i] = NextUniformFloat();
            NormalFill16(tail);
        }
    }

    private static void NormalFill16(Span<float> d)
    {
        for (int j = 0; j < 8; j++)
        {
            float u1 = 1f - d[j];          // [0, 1) -> (0, 1] for the log
            float u2 = d[j + 8];
            float radius = MathF.Sqrt(-2f * RoundedLog(u1));
            float theta = TwoPiF * u2;
            d[j] = radius * (float)Math.Cos(theta);
            d[j + 8] = radius * (float)Math.Sin(theta);
        }
    }

    // Correctly rounded float log: the double result rounded once (double rounding is vanishingly rare here).
    private static float RoundedLog(float x) => (float)Math.Log(x);

    /// <summary>torch's <c>normal_distribution&lt;double&gt;</c> with its one-value cache.</summary>
    private double NextDoubleNormal()
    {
        if (_nextDoubleNormal is double cached)
        {
            _nextDoubleNormal = null;
            return cached;
        }
        double u1 = NextUniformDouble();
        double u2 = NextUniformDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(1.0 - u2)); // torch: log1p(-u2)
        double theta = 2.0 * Math.PI * u1;
        _nextDoubleNormal = r * Math.Sin(theta);
        return r * Math.Cos(theta);
    }
}
