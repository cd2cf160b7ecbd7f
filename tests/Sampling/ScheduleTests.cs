using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

public sealed class ScheduleTests
{
    private static readonly DiscreteSchedule Sdxl = DiscreteSchedule.Sdxl;

    [Fact]
    public void SdxlTableEndpoints()
    {
        Assert.Equal(1000, Sdxl.Count);
        Assert.Equal(0.99915, Sdxl.AlphasCumprod[0], 6);
        Assert.Equal(0.0046601, Sdxl.AlphasCumprod[999], 6);
        // Forge's predictor computes σ in float64 (research/sdxl.md §5 [V]: σ_0 = 0.0291671585).
        Assert.True(Math.Abs(Sdxl.SigmaMin - 0.0291671585) < 2e-10, $"σ_0 = {Sdxl.SigmaMin:R}");
        Assert.Equal(14.614642, Sdxl.SigmaMax, 5);
        Assert.Equal(1.6128862, Sdxl.Sigmas[499], 5);
        for (int i = 1; i < Sdxl.Count; i++) Assert.True(Sdxl.Sigmas[i] > Sdxl.Sigmas[i - 1]);
    }

    // research/sdxl.md §5.1 test vectors (n = 20, before the appended 0), from the reference implementations.
    private static readonly double[] Karras20 = [14.61464, 11.72537, 9.3402, 7.38362, 5.78941, 4.49983, 3.46475, 2.64084, 1.99092, 1.48321, 1.09079, 0.79095, 0.56472, 0.39639, 0.27304, 0.18417, 0.12134, 0.07786, 0.04848, 0.02917];
    private static readonly double[] Normal20 = [14.61464, 10.7468, 8.08152, 6.20494, 4.85565, 3.86538, 3.12376, 2.55717, 2.11566, 1.76482, 1.48058, 1.24581, 1.04814, 0.87843, 0.72972, 0.59643, 0.47358, 0.35555, 0.23216, 0.02917];
    private static readonly double[] Exponential20 = [14.61464, 10.53631, 7.59607, 5.47632, 3.94811, 2.84636, 2.05206, 1.47942, 1.06657, 0.76894, 0.55436, 0.39966, 0.28813, 0.20773, 0.14976, 0.10797, 0.07784, 0.05612, 0.04046, 0.02917];

    [Theory]
    [InlineData(ScheduleKind.Karras)]
    [InlineData(ScheduleKind.Normal)]
    [InlineData(ScheduleKind.Exponential)]
    public void TwentyStepSchedulesMatchReference(ScheduleKind kind)
    {
        var want = kind switch { ScheduleKind.Karras => Karras20, ScheduleKind.Normal => Normal20, _ => Exponential20 };
        var got = SigmaSchedules.Build(kind, 20, Sdxl);
        Assert.Equal(21, got.Length);
        Assert.Equal(0f, got[20]);
        for (int i = 0; i < 20; i++) Assert.True(Math.Abs(got[i] - want[i]) <= 2e-5 * want[i] + 1e-5, $"{kind}[{i}] = {got[i]}, want {want[i]}");
    }

    [Theory]
    [InlineData(ScheduleKind.Karras)]
    [InlineData(ScheduleKind.Normal)]
    [InlineData(ScheduleKind.Exponential)]
    public void SchedulesRunFromSigmaMaxToSigmaMinThenZero(ScheduleKind kind)
    {
        foreach (int n in new[] { 1, 2, 3, 8, 37 })
        {
            var s = SigmaSchedules.Build(kind, n, Sdxl);
            Assert.Equal(n + 1, s.Length);
            Assert.Equal(Sdxl.SigmaMax, s[0], 4);
            Assert.Equal(0f, s[^1]);
            if (n > 1) Assert.Equal(Sdxl.SigmaMin, s[^2], 5);
            for (int i = 1; i < s.Length; i++) Assert.True(s[i] < s[i - 1], $"{kind} n={n} not decreasing at {i}");
        }
    }

    [Fact]
    public void QuantizedAndFractionalTimestepsOfKarras20()
    {
        int[] quantized = [999, 962, 921, 876, 827, 772, 710, 640, 561, 474, 380, 285, 197, 123, 69, 35, 15, 6, 2, 0];
        double[] fractional = [999.0, 961.733, 921.042, 876.314, 826.79, 771.552, 709.529, 639.614, 560.975, 473.748, 380.131, 285.316, 197.08, 123.394, 69.256, 34.697, 15.481, 5.992, 1.783, 0.0];
        var s = SigmaSchedules.Build(ScheduleKind.Karras, 20, Sdxl);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(quantized[i], Sdxl.SigmaToTimestep(s[i], TimestepMode.Quantized));
            float t = Sdxl.SigmaToTimestep(s[i], TimestepMode.Fractional);
            Assert.True(Math.Abs(t - fractional[i]) < 2e-3, $"t[{i}] = {t}, want {fractional[i]}");
        }
    }

    [Fact]
    public void TimestepToSigmaInvertsFractionalTimesteps()
    {
        foreach (float t in new[] { 0f, 0.5f, 123.25f, 500f, 998.75f, 999f })
            Assert.True(Math.Abs(t - Sdxl.SigmaToTimestep(Sdxl.TimestepToSigma(t), TimestepMode.Fractional)) < 2e-3, $"t = {t}");
        Assert.Equal(Sdxl.SigmaMax, Sdxl.TimestepToSigma(5000f), 4);
        Assert.Equal(Sdxl.SigmaMin, Sdxl.TimestepToSigma(-3f), 6);
    }

    [Theory]
    [InlineData(0.1, 8.307)]
    [InlineData(0.25, 4.086)]
    [InlineData(0.5, 1.6156)]
    [InlineData(0.75, 0.6951)]
    [InlineData(0.9, 0.3437)]
    public void PercentToSigmaMatchesForge(double percent, double sigma) =>
        Assert.Equal(sigma, Sdxl.PercentToSigma(percent), 3);

    [Fact]
    public void PercentToSigmaEnds()
    {
        Assert.Equal(0.0, Sdxl.PercentToSigma(1.0));
        Assert.Equal(0.0, Sdxl.PercentToSigma(1.5));
        Assert.True(Sdxl.PercentToSigma(0.0) > 1e8);
        Assert.True(Sdxl.PercentToSigma(-1) > 1e8);
    }

    [Fact]
    public void VpScheduleMatchesTheSigmaTable()
    {
        var vp = new NoiseScheduleVp(Sdxl);
        Assert.Equal(1000, vp.TotalN);
        for (int i = 0; i < 1000; i += 111)
        {
            float t = (i + 1) / 1000f;
            Assert.Equal(Sdxl.Sigmas[i], vp.KSigma(t), 3);
            Assert.True(Math.Abs(1.0 / (Sdxl.Sigmas[i] * (double)Sdxl.Sigmas[i] + 1) - vp.AlphasCumprod[i]) < 1e-6);
        }
        Assert.Equal(999f, vp.ModelTimestep(1f));
        Assert.Equal(0f, vp.ModelTimestep(0.001f), 3);
    }

    [Fact]
    public void ZeroStepsIsAnError() =>
        Assert.Throws<InvalidOptionException>(() => SigmaSchedules.Build(ScheduleKind.Normal, 0, Sdxl));
}
