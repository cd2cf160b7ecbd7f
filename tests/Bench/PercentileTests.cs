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
        Assert.Equal(expected, BenchStats.Percentile([1, 2, 3, 4, 5], q), 12);

    [Fact]
    public void EvenCountMedianIsTheMidpoint() => Assert.Equal(2.5, BenchStats.Percentile([1, 2, 3, 4], 0.5), 12);

    [Fact]
    public void UnevenSpacingFollowsNumpy()
    {
        // numpy.percentile([10, 20, 40, 80], [10, 90]) = [13, 68]
        double[] v = [10, 20, 40, 80];
        Assert.Equal(13.0, BenchStats.Percentile(v, 0.1), 12);
        Assert.Equal(68.0, BenchStats.Percentile(v, 0.9), 12);
    }

    [Fact]
    public void OneValueIsEveryPercentile()
    {
        Assert.Equal(7.0, BenchStats.Percentile([7], 0.1));
        Assert.Equal(7.0, BenchStats.Percentile([7], 0.9));
    }

    [Fact]
    public void NoValuesIsNaN() => Assert.True(double.IsNaN(BenchStats.Percentile([], 0.5)));

    [Fact]
    public void RunnerRecordsTheRequestedRunsAndOrderedSpread()
    {
        int calls = 0;
        var runner = new BenchRunner(Backends.Cpu.CpuBackend.Instance, warmup: 2, runs: 4);
        var r = runner.Measure("x", new BenchParams { Batch = 1 }, "fp32", () => { calls++; Thread.Sleep(1); });
        Assert.Equal(6, calls);
        Assert.Equal(4, r.Stats.Runs);
        Assert.Equal(4, r.SamplesMs!.Length);
        Assert.Equal(2, r.WarmupSamplesMs!.Length);
        var s = r.Stats;
        Assert.True(s.MinMs <= s.P10Ms && s.P10Ms <= s.MedianMs && s.MedianMs <= s.P90Ms && s.P90Ms <= s.MaxMs);
        Assert.True(s.MinMs >= 1 && s.StddevMs >= 0);
        Assert.Equal(BenchPeak.ProcessPeakRss, Assert.Single(r.Peaks).Source);
        Assert.NotNull(r.Warning);   // 4 runs: too few for p10/p90
    }

    [Fact]
    public void RunCapAndMinimumWarmupApply()
    {
        int calls = 0;
        var runner = new BenchRunner(Backends.Cpu.CpuBackend.Instance, warmup: 0, runs: 10);
        var r = runner.Measure("x", new BenchParams(), "fp32", () => calls++, maxRuns: 3, minWarmup: 1);
        Assert.Equal(3, r.Stats.Runs);
        Assert.Single(r.WarmupSamplesMs!);
        Assert.Equal(4, calls);
    }

    [Fact]
    public void StatsOfKnownSamples()
    {
        var s = BenchStats.Of([5, 1, 4, 2, 3]);   // run order is kept in the record; statistics sort
        Assert.Equal(5, s.Runs);
        Assert.Equal(1, s.MinMs);
        Assert.Equal(5, s.MaxMs);
        Assert.Equal(3, s.MedianMs);
        Assert.Equal(1.4, s.P10Ms!, 12);
        Assert.Equal(4.6, s.P90Ms!, 12);
        Assert.Equal(Math.Sqrt(2.5), s.StddevMs!.Value, 4);   // sample stddev (n − 1) of 1..5
    }

    [Fact]
    public void OneRunHasNoStddevAndAWarning()
    {
        var s = BenchStats.Of([7]);
        Assert.Null(s.StddevMs);
        Assert.Equal(7, s.P10Ms);
        Assert.Contains("1 run", BenchStats.WarningFor(1));
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(9, true)]
    [InlineData(10, false)]
    [InlineData(50, false)]
    public void TooFewRunsForPercentilesWarn(int runs, bool warns) => Assert.Equal(warns, BenchStats.WarningFor(runs) is not null);
}
