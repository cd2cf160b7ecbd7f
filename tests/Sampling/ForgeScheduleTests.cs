using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

/// <summary>
/// Forge's schedules (modules/sd_schedulers.py) against their formulas; the golden case samplers_more checks their
/// values for its step count against Forge's own code.
/// </summary>
public sealed class ForgeScheduleTests
{
    private static readonly DiscreteSchedule Sdxl = DiscreteSchedule.Sdxl;

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(25)]
    public void SgmUniformDropsTheLastOfNPlusOneTimesteps(int n)
    {
        var s = SigmaSchedules.Build(ScheduleKind.SgmUniform, n, Sdxl);
        Assert.Equal(n + 1, s.Length);
        Assert.Equal(0f, s[^1]);
        for (int i = 0; i < n; i++) Assert.Equal(Sdxl.TimestepToSigma(999f - 999f * i / n), s[i], 1e-5 * s[i]);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(30)]
    public void SimpleStridesThroughTheTableFromTheTop(int n)
    {
        var s = SigmaSchedules.Build(ScheduleKind.Simple, n, Sdxl);
        Assert.Equal(n + 1, s.Length);
        Assert.Equal(0f, s[^1]);
        for (int i = 0; i < n; i++) Assert.Equal(Sdxl.Sigmas[999 - (int)(i * (1000.0 / n))], s[i]);
    }

    [Fact]
    public void BetaQuantilesMatchClosedForms()
    {
        // Beta(1, 1) is uniform; Beta(½, ½) is the arcsine law, F⁻¹(p) = sin²(πp/2); Beta(2, 1) has F(x) = x².
        foreach (double p in new[] { 0.0, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0 })
        {
            Assert.Equal(p, BetaDistribution.Ppf(p, 1, 1), 1e-12);
            Assert.Equal(Math.Pow(Math.Sin(Math.PI * p / 2), 2), BetaDistribution.Ppf(p, 0.5, 0.5), 1e-12);
            Assert.Equal(Math.Sqrt(p), BetaDistribution.Ppf(p, 2, 1), 1e-12);
        }
        // Symmetric α = β: the median is ½ and the quantiles mirror.
        Assert.Equal(0.5, BetaDistribution.Ppf(0.5, 0.6, 0.6), 1e-12);
        Assert.Equal(1 - BetaDistribution.Ppf(0.2, 0.6, 0.6), BetaDistribution.Ppf(0.8, 0.6, 0.6), 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => BetaDistribution.Ppf(1.5, 0.6, 0.6));
        Assert.Throws<ArgumentOutOfRangeException>(() => BetaDistribution.Ppf(0.5, 0, 0.6));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(20)]
    public void BetaRunsFromSigmaMaxToSigmaMinThroughTheQuantiles(int n)
    {
        var s = SigmaSchedules.Build(ScheduleKind.Beta, n, Sdxl);
        Assert.Equal(n + 1, s.Length);
        Assert.Equal(Sdxl.SigmaMax, s[0], 2e-6);
        if (n > 1) Assert.Equal(Sdxl.SigmaMin, s[^2], 1e-8);
        for (int i = 0; i < n; i++)
        {
            double p = 1 - (n > 1 ? (double)i / (n - 1) : 0);
            Assert.Equal(Sdxl.SigmaMin + BetaDistribution.Ppf(p, 0.6, 0.6) * (Sdxl.SigmaMax - Sdxl.SigmaMin), s[i], 2e-6);
        }
        if (n % 2 == 1 && n > 1) Assert.Equal((Sdxl.SigmaMin + Sdxl.SigmaMax) / 2, s[n / 2], 2e-6); // symmetric α = β
    }

    [Fact]
    public void AlignYourStepsUsesTheTableAtElevenSteps()
    {
        var s = SigmaSchedules.Build(ScheduleKind.AlignYourSteps, 11, Sdxl);
        Assert.Equal(AlignYourSteps.SdxlSigmas.Select(v => (float)v).Append(0f), s);
    }

    [Fact]
    public void AlignYourStepsInterpolatesLogSigmaLinearly()
    {
        // 21 points over the 11 knots: the even ones are the knots, the odd ones their geometric means.
        var s = SigmaSchedules.Build(ScheduleKind.AlignYourSteps, 21, Sdxl);
        var table = AlignYourSteps.SdxlSigmas;
        for (int k = 0; k < 11; k++) Assert.Equal(table[k], s[2 * k], 2e-6 * table[k]);
        for (int k = 0; k < 10; k++) Assert.Equal(Math.Sqrt(table[k] * table[k + 1]), s[2 * k + 1], 2e-6 * table[k]);
        var eight = SigmaSchedules.Build(ScheduleKind.AlignYourSteps, 8, Sdxl);
        Assert.Equal(14.615f, eight[0]);
        Assert.Equal(0.029f, eight[7]);
        for (int i = 1; i < eight.Length; i++) Assert.True(eight[i] < eight[i - 1]);
    }

    [Fact]
    public void LcmTableIsEveryTwentiethTimestepFromNineteen()
    {
        var lcm = new LcmSchedule(Sdxl);
        Assert.Equal(50, lcm.Count);
        for (int k = 0; k < 50; k++)
        {
            Assert.Equal(Sdxl.Sigmas[19 + 20 * k], lcm.SigmaAt(k), 1e-6 * Sdxl.Sigmas[19 + 20 * k] + 1e-7);
            Assert.Equal(19 + 20 * k, lcm.SigmaToT(lcm.SigmaAt(k)));
        }
        // LCM's Automatic: t = linspace(999, 19, n) mapped to (t − 19)/20 in that table.
        var s = Sampler.Sigmas(new SamplerSettings(SamplerKind.Lcm, ScheduleKind.Normal, 5), Sdxl);
        Assert.Equal(lcm.SigmaMax, s[0], 2e-6 * s[0]);
        Assert.Equal(lcm.SigmaMin, s[4], 2e-6 * s[4]);
        Assert.Equal(lcm.TToSigma(999 - 980f * 2 / 4), s[2], 2e-6 * s[2]);
        // Other schedules take LCM's range too (Forge's m_sigma_min/max come from the LCM denoiser).
        var karras = Sampler.Sigmas(new SamplerSettings(SamplerKind.Lcm, ScheduleKind.Karras, 5), Sdxl);
        Assert.Equal(lcm.SigmaMin, karras[4], 2e-6 * karras[4]);
    }

    [Theory]
    [InlineData(ScheduleKind.SgmUniform)]
    [InlineData(ScheduleKind.Simple)]
    [InlineData(ScheduleKind.Beta)]
    [InlineData(ScheduleKind.AlignYourSteps)]
    public void EveryScheduleDecreasesToZero(ScheduleKind kind)
    {
        foreach (int n in new[] { 1, 2, 3, 8, 37 })
        {
            var s = SigmaSchedules.Build(kind, n, Sdxl);
            Assert.Equal(n + 1, s.Length);
            Assert.Equal(0f, s[^1]);
            Assert.True(Math.Abs(s[0] - Sdxl.SigmaMax) < 1e-3 || (kind == ScheduleKind.AlignYourSteps && n == 1), $"{kind} n={n} starts at {s[0]}");
            for (int i = 1; i < s.Length; i++) Assert.True(s[i] < s[i - 1], $"{kind} n={n} not decreasing at {i}");
        }
    }
}
