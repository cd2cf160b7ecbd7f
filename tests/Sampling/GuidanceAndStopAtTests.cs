using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

public sealed class GuidanceAndStopAtTests
{
    [Fact]
    public void CfgCombinesTheNegativeAndPositiveHalves()
    {
        float[]? seen = null;
        CfgBatchEpsModel batch = (x, t, s) =>
        {
            seen = x;
            var eps = new float[x.Length];
            for (int i = 0; i < x.Length / 2; i++) { eps[i] = 1f; eps[x.Length / 2 + i] = 3f + i; }
            return eps;
        };
        var model = ClassifierFreeGuidance.Wrap(batch, 5f);
        var eps = model([10f, 20f], 999, 14f);
        Assert.Equal([10f, 20f, 10f, 20f], seen!);
        Assert.Equal([1f + (3f - 1f) * 5f, 1f + (4f - 1f) * 5f], eps);
    }

    [Fact]
    public void CfgOfOneSkipsTheNegativeHalfWhenAllowed()
    {
        int batchCalls = 0;
        CfgBatchEpsModel batch = (x, t, s) => { batchCalls++; return new float[x.Length]; };
        EpsModel positive = (x, t, s) => [42f];
        Assert.Equal([42f], ClassifierFreeGuidance.Wrap(batch, 1f, positive)([0f], 0, 1));
        Assert.Equal(0, batchCalls);
        ClassifierFreeGuidance.Wrap(batch, 1f)([0f], 0, 1);
        Assert.Equal(1, batchCalls);
    }

    private static (int[] Patched, double SigmaEnd) RunStopAt(double stopAt)
    {
        EpsModel patched = (x, t, s) => new float[x.Length];
        EpsModel original = (x, t, s) => new float[x.Length];
        var sw = new StopAtSwitch(patched, original, stopAt, DiscreteSchedule.Sdxl);
        Sampler.Run(new SamplerSettings(SamplerKind.Euler, ScheduleKind.Normal, 8), DiscreteSchedule.Sdxl, sw.Model, new float[16]);
        return (sw.PatchedCalls.Select(p => p ? 1 : 0).ToArray(), sw.SigmaEnd);
    }

    [Fact]
    public void StopAtHalfSwitchesBelowPercentToSigma()
    {
        // 8 normal steps: 14.61, 6.68, 3.52, 2.06, 1.28, 0.79, 0.44, 0.029; percent_to_sigma(0.5) = 1.6156.
        var (patched, sigmaEnd) = RunStopAt(0.5);
        Assert.Equal(1.61558, sigmaEnd, 4);
        Assert.Equal([1, 1, 1, 1, 0, 0, 0, 0], patched);
    }

    [Fact]
    public void StopAtOneNeverSwitchesAndZeroNeverPatches()
    {
        Assert.All(RunStopAt(1.0).Patched, p => Assert.Equal(1, p));
        Assert.All(RunStopAt(0.0).Patched, p => Assert.Equal(0, p));
    }

    [Fact]
    public void StopAtUsesTheRightModelsOutput()
    {
        EpsModel patched = (x, t, s) => Enumerable.Repeat(1f, x.Length).ToArray();
        EpsModel original = (x, t, s) => Enumerable.Repeat(-1f, x.Length).ToArray();
        var sw = new StopAtSwitch(patched, original, 0.5, DiscreteSchedule.Sdxl);
        Assert.Equal([1f], sw.Model([0f], 999, 2f));
        Assert.Equal([-1f], sw.Model([0f], 100, 1f));
        Assert.Equal([true, false], sw.PatchedCalls);
        Assert.Throws<InvalidOptionException>(() => new StopAtSwitch(patched, original, double.NaN, DiscreteSchedule.Sdxl));
    }
}
