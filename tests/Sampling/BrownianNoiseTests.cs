using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

/// <summary>
/// The Brownian step noise is not torchsde's bit stream, so it is tested for what the DPM++ SDE samplers rely on:
/// unit-normal increments, independence of disjoint steps, and one consistent path (the bridge property).
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
            Assert.Equal(ac[i] * sac, ab[i] * sab + bc[i] * sbc, 4);
    }

    [Fact]
    public void MidpointFollowsTheBrownianBridge()
    {
        // Given W(a) and W(c), W(b) has mean (W(a)(c − b) + W(c)(b − a))/(c − a) and variance (b − a)(c − b)/(c − a).
        var tree = new BrownianTree(11, Size, 0.03, 14.6);
        double a = 1.0, b = 2.7, c = 5.0;
        var wa = tree.ValueAt(a);
        var wb = tree.ValueAt(b);
        var wc = tree.ValueAt(c);
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
}
