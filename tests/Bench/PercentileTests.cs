using LayerDiffusion.Native.Bench;
using Xunit;

namespace LayerDiffusion.Native.Tests.Bench;

public sealed class PercentileTests
{
    [Theory]
    [InlineData(0.5, 3.0)]
    [InlineData(0.1, 1.4)]    // numpy.percentile([1..5], 10) = 1.4
    [InlineData(0.9, 4.6)]
    [InlineData(0.0, 1.0)]
    [InlineData(1.0, 5.0)]
    public void InterpolatesLinearlyBetweenOrderStatistics(double q, double expected) =>
        Assert.Equal(expected, BenchRunner.Percentile([1, 2, 3, 4, 5], q), 12);

    [Fact]
    public void EvenCountMedianIsTheMidpoint() => Assert.Equal(2.5, BenchRunner.Percentile([1, 2, 3, 4], 0.5), 12);

    [Fact]
    public void UnevenSpacingFollowsNumpy()
    {
        // numpy.percentile([10, 20, 40, 80], [10, 90]) = [13, 68]
        double[] v = [10, 20, 40, 80];
        Assert.Equal(13.0, BenchRunner.Percentile(v, 0.1), 12);
        Assert.Equal(68.0, BenchRunner.Percentile(v, 0.9), 12);
    }

    [Fact]
    public void OneValueIsEveryPercentile()
    {
        Assert.Equal(7.0, BenchRunner.Percentile([7], 0.1));
        Assert.Equal(7.0, BenchRunner.Percentile([7], 0.9));
    }

    [Fact]
    public void NoValuesIsNaN() => Assert.True(double.IsNaN(BenchRunner.Percentile([], 0.5)));

    [Fact]
    public void RunnerRecordsTheRequestedRunsAndOrderedSpread()
    {
        int calls = 0;
        var runner = new BenchRunner(Backends.Cpu.CpuBackend.Instance, warmup: 2, runs: 4);
        var r = runner.Measure("x", "s", "fp32", () => { calls++; Thread.Sleep(1); });
        Assert.Equal(6, calls);
        Assert.Equal(4, r.Runs);
        Assert.True(r.P10Ms <= r.MedianMs && r.MedianMs <= r.P90Ms);
        Assert.True(r.MedianMs > 0);
        Assert.Equal("process_peak_rss", r.PeakSource);
    }

    [Fact]
    public void RunCapAndMinimumWarmupApply()
    {
        int calls = 0;
        var runner = new BenchRunner(Backends.Cpu.CpuBackend.Instance, warmup: 0, runs: 10);
        var r = runner.Measure("x", "s", "fp32", () => calls++, maxRuns: 3, minWarmup: 1);
        Assert.Equal(3, r.Runs);
        Assert.Equal(4, calls);
    }
}
