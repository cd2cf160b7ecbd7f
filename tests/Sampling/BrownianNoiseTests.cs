using System.Numerics;
using LayerDiffusion.Native.Random;
using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

/// <summary>
/// The Brownian step noise reproduces torchsde's bit stream (golden case brownian_tree); these tests check what the
/// DPM++ SDE samplers rely on — unit-normal increments, independence of disjoint steps, one consistent path (the
/// bridge property) — and the pieces of the port against their references (numpy's SeedSequence, Python's round).
/// </summary>
public sealed class BrownianNoiseTests
{
    private const int Size = 1 << 16; // 65,536 independent elements per query: enough for tight moments
    private static readonly float[] Sigmas = SigmaSchedules.Build(ScheduleKind.Karras, 8, DiscreteSchedule.Sdxl);

    private static (double Mean, double Var) Moments(ReadOnlySpan<float> v)
    {
        double s = 0, s2 = 0;
        foreach (float x in v) { s += x; s2 += (double)x * x; }
        double mean = s / v.Length;
        return (mean, s2 / v.Length - mean * mean);
    }

    private static double Correlation(float[] a, float[] b)
    {
        var (ma, va) = Moments(a);
        var (mb, vb) = Moments(b);
        double c = 0;
        for (int i = 0; i < a.Length; i++) c += (a[i] - ma) * (b[i] - mb);
        return c / a.Length / Math.Sqrt(va * vb);
    }

    [Fact]
    public void StepNoiseIsStandardNormalAndIndependentAcrossSteps()
    {
        var noise = BrownianStepNoise.ForSigmas([42], Size, Sigmas);
        float[]? previous = null;
        for (int i = 0; i < Sigmas.Length - 2; i++)
        {
            var n = noise.Between(Sigmas[i], Sigmas[i + 1]);
            var (mean, variance) = Moments(n);
            Assert.True(Math.Abs(mean) < 0.02, $"step {i}: mean {mean}");
            Assert.True(Math.Abs(variance - 1) < 0.03, $"step {i}: variance {variance}");
            int tails = n.Count(x => Math.Abs(x) > 1.959964);
            Assert.InRange(tails / (double)Size, 0.045, 0.055);
            if (previous is not null) Assert.True(Math.Abs(Correlation(previous, n)) < 0.02, $"steps {i - 1},{i} correlated");
            previous = n;
        }
    }

    [Fact]
    public void IncrementsAddUpAlongOnePath()
    {
        var noise = BrownianStepNoise.ForSigmas([7], Size, Sigmas);
        float a = Sigmas[1], b = Sigmas[2], c = Sigmas[3];
        var ab = noise.Between(a, b);
        var bc = noise.Between(b, c);
        var ac = noise.Between(a, c);
        double sab = Math.Sqrt(a - b), sbc = Math.Sqrt(b - c), sac = Math.Sqrt(a - c);
        for (int i = 0; i < Size; i += 97)
            Assert.True(Math.Abs(ac[i] * sac - (ab[i] * sab + bc[i] * sbc)) < 1e-5, $"element {i}");
    }

    [Fact]
    public void MidpointFollowsTheBrownianBridge()
    {
        // Given W(a) and W(c), W(b) has mean (W(a)(c − b) + W(c)(b − a))/(c − a) and variance (b − a)(c − b)/(c − a).
        var tree = new BrownianTree(11, Size, 0.03, 14.6, (seed, n) => new TorchCpuGenerator(seed).Randn(n));
        double a = 1.0, b = 2.7, c = 5.0;
        var wa = tree.Increment(0.03, a);
        var wb = tree.Increment(0.03, b);
        var wc = tree.Increment(0.03, c);
        var residual = new float[Size];
        for (int i = 0; i < Size; i++) residual[i] = (float)(wb[i] - (wa[i] * (c - b) + wc[i] * (b - a)) / (c - a));
        var (mean, variance) = Moments(residual);
        double want = (b - a) * (c - b) / (c - a);
        Assert.True(Math.Abs(mean) < 0.02 * Math.Sqrt(want), $"mean {mean}");
        Assert.True(Math.Abs(variance / want - 1) < 0.03, $"variance {variance}, want {want}");
        // and W itself has variance t − t0
        var (m5, v5) = Moments(wc.Select(x => (float)x).ToArray());
        Assert.True(Math.Abs(v5 / (c - 0.03) - 1) < 0.03, $"Var W(5) = {v5}");
        Assert.True(Math.Abs(m5) < 0.05);
    }

    [Fact]
    public void SameSeedSameNoiseWhateverTheQueryOrder()
    {
        var first = BrownianStepNoise.ForSigmas([5, 6], 1000, Sigmas);
        var second = BrownianStepNoise.ForSigmas([5, 6], 1000, Sigmas);
        var forward = Enumerable.Range(0, 6).Select(i => first.Between(Sigmas[i], Sigmas[i + 1])).ToArray();
        var backward = Enumerable.Range(0, 6).Reverse().Select(i => second.Between(Sigmas[i], Sigmas[i + 1])).Reverse().ToArray();
        for (int i = 0; i < 6; i++) Assert.Equal(forward[i], backward[i]);

        var other = BrownianStepNoise.ForSigmas([5, 7], 1000, Sigmas).Between(Sigmas[0], Sigmas[1]);
        Assert.Equal(forward[0].AsSpan(0, 1000).ToArray(), other.AsSpan(0, 1000).ToArray()); // image 0: seed 5 both times
        Assert.NotEqual(forward[0].AsSpan(1000).ToArray(), other.AsSpan(1000).ToArray());  // image 1: seed 6 vs 7
    }

    [Fact]
    public void IntervalIncrementsAreSumsOfTheirTiles()
    {
        // W over [a, c] is the in-order sum of the tiles, so it equals W[a, b] + W[b, c] up to float32 rounding.
        var tree = new BrownianTree(3, 4096, 0.0291671771556139, 14.614643096923828, (seed, n) => new TorchCpuGenerator(seed).Randn(n));
        var ab = tree.Increment(0.5, 2.25);
        var bc = tree.Increment(2.25, 7.0);
        var ac = tree.Increment(0.5, 7.0);
        for (int i = 0; i < ab.Length; i++) Assert.True(Math.Abs(ac[i] - (ab[i] + bc[i])) < 1e-5, $"element {i}");
        // Queries outside [t0, t1] are clamped, as torchsde does.
        Assert.Equal(tree.Increment(0.01, 20.0), tree.Increment(tree.T0, tree.T1));
    }

    [Fact]
    public void GpuSourceDrawsEveryIntervalFromPhilox()
    {
        // Forge's randn_local on the "GPU" source: the tree's normals are torch CUDA randn of the interval seeds.
        var cpu = new SeededNoiseSource(12345, 1, [4, 8, 8], RngSource.Cpu);
        var gpu = new SeededNoiseSource(12345, 1, [4, 8, 8], RngSource.Gpu);
        var settings = new SamplerSettings(SamplerKind.DpmPp2mSde, ScheduleKind.Karras, 6);
        var sigmas = Sampler.Sigmas(settings, DiscreteSchedule.Sdxl);
        var onCpu = StepNoise.For(settings, cpu, sigmas)!.Between(sigmas[1], sigmas[2]);
        var onGpu = StepNoise.For(settings, gpu, sigmas)!.Between(sigmas[1], sigmas[2]);
        Assert.NotEqual(onCpu, onGpu);
        var direct = BrownianStepNoise.ForSigmas([12345], 256, sigmas, (seed, n) => TorchCudaRandom.Randn(seed, [n], 1))
            .Between(sigmas[1], sigmas[2]);
        Assert.Equal(direct, onGpu);
    }

    [Fact]
    public void ThePipelinesSdeNoiseIsForges()
    {
        // What LayerPipeline asks for (StepNoise.For over the seeded source and Sampler.Sigmas) is the golden
        // brownian_tree noise: Forge's DPM++ 2M SDE Karras noise for the case's seed (the extension's sanity check uses
        // seed 12345) with the CPU source.
        var c = Verify.GoldenManifest.Load(TestPaths.GoldenDir).Find("brownian_tree")!;
        using var file = IO.SafeTensorsFile.Open(c.FilePath);
        var shape = file.Info("noise").Shape;
        long seed = c.Settings.GetProperty("seed").GetInt64();
        int steps = c.Settings.GetProperty("steps").GetInt32();
        var settings = SamplerSettings.Parse("DPM++ 2M SDE", c.Settings.GetProperty("schedule").GetString(), steps);
        var source = new SeededNoiseSource(seed, shape[0], shape[1..], RngSource.Cpu);
        var sigmas = Sampler.Sigmas(settings, DiscreteSchedule.Sdxl);
        Assert.Equal(file.ReadFloat32("sigmas"), sigmas);
        var noise = StepNoise.For(settings, source, sigmas)!;
        var want = file.ReadFloat32("brownian_noises");
        double tolerance = c.Outputs.Single(o => o.Name == "brownian_noises").Tolerance.MaxAbs;
        int size = want.Length / (steps - 1);
        for (int i = 0; i < steps - 1; i++)
        {
            var got = noise.Between(sigmas[i], sigmas[i + 1]);
            for (int j = 0; j < size; j++) Assert.True(Math.Abs(got[j] - want[i * size + j]) <= tolerance, $"step {i}, element {j}");
        }
    }

    [Theory]
    // numpy/random/tests/test_seed_sequence.py test_reference_data (the C++ seed_seq_fe reference).
    [InlineData(new uint[] { 3735928559, 195939070, 229505742, 305419896 }, new uint[] { 3914649087, 576849849, 3593928901, 2229911004 })]
    [InlineData(new uint[] { 3668361503, 4165561550, 1661411377, 3634257570 }, new uint[] { 2240804226, 3691353228, 1365957195, 2654016646 })]
    [InlineData(new uint[] { 2766103236, 2883057919, 4029656435, 862374500 }, new uint[] { 296367413, 4262059219, 13109864, 3283683422 })]
    public void SeedSequenceMatchesNumpysReferenceData(uint[] entropyWords, uint[] expected)
    {
        var entropy = BigInteger.Zero;
        for (int i = entropyWords.Length - 1; i >= 0; i--) entropy = (entropy << 32) | entropyWords[i];
        Assert.Equal(expected, new SeedSequence(entropy).GenerateState(expected.Length));
    }

    [Fact]
    public void SeedSequenceRejectsNegativeEntropy() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeedSequence(-1));

    [Theory]
    [InlineData(2.675, 2, 2.67)]              // the binary value is below 2.675 (Python's documented example)
    [InlineData(0.0078125, 6, 0.007812)]      // an exact tie goes to even
    [InlineData(14.614643096923828, 6, 14.614643)]
    [InlineData(0.0291671771556139, 6, 0.029167)]
    [InlineData(7.3073215484619141, 6, 7.307322)]
    [InlineData(-2.675, 2, -2.67)]
    [InlineData(3.0, 6, 3.0)]
    public void RoundsLikePython(double x, int digits, double want) => Assert.Equal(want, PythonRound.Round(x, digits));
}
