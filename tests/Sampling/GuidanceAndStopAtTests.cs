using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

/// <summary>
/// The guided denoiser on the tiny golden checkpoint: CFG over the two halves, the exact cfg = 1 shortcut, and
/// LayerDiffusion's Stop At switch to the unpatched UNet.
/// </summary>
public sealed class GuidanceAndStopAtTests : IDisposable
{
    private static readonly CpuBackend B = CpuBackend.Instance;
    private readonly SafeTensorsFile _weights = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
    private readonly SafeTensorsFile _data = SafeTensorsFile.Open(TestPaths.Golden("samplers.safetensors"));
    private readonly SdxlUnet _unet;
    private readonly float[] _noise;
    private readonly int[] _image;

    public GuidanceAndStopAtTests()
    {
        _unet = SdxlUnet.Load(B, _weights);
        _noise = _data.ReadFloat32("noise");
        _image = _data.Info("noise").Shape[1..];
    }

    public void Dispose()
    {
        _weights.Dispose();
        _data.Dispose();
    }

    /// <summary>The case's [negative, positive] conditioning; optionally swapped, or with a NaN negative context.</summary>
    private CfgConditioning Conditioning(bool swap = false, bool poisonNegative = false)
    {
        var context = _data.ReadFloat32("context");
        if (poisonNegative) Array.Fill(context, float.NaN, 0, context.Length / 2);
        return CfgConditioning.FromCfgBatch(B, context, _data.Info("context").Shape, _data.ReadFloat32("y"), _data.Info("y").Shape, negativeFirst: !swap);
    }

    [Fact]
    public void CfgCombinesTheHalvesInOneBatch()
    {
        using var guided = new GuidedDenoiser(_unet, Conditioning(), 5f, _image);
        using var positive = new GuidedDenoiser(_unet, Conditioning(), 1f, _image);
        using var negative = new GuidedDenoiser(_unet, Conditioning(swap: true), 1f, _image);
        var g = guided.Model(_noise, 500f, 1.6f);
        var c = positive.Model(_noise, 500f, 1.6f);
        var u = negative.Model(_noise, 500f, 1.6f);
        // One doubled-batch call against two single ones: equal up to the batched products' summation order.
        for (int i = 0; i < _noise.Length; i++) Assert.Equal(u[i] + (c[i] - u[i]) * 5f, g[i], 3);
        Assert.Throws<ArgumentException>(() => guided.Model(_noise[..(_noise.Length / 2)], 500f, 1.6f));
    }

    [Fact]
    public void CfgOneRunsOnlyThePositiveHalf()
    {
        // A NaN negative context poisons every output that touches it: cfg 1 must not, any other cfg must.
        using var one = new GuidedDenoiser(_unet, Conditioning(poisonNegative: true), 1f, _image);
        using var clean = new GuidedDenoiser(_unet, Conditioning(), 1f, _image);
        using var two = new GuidedDenoiser(_unet, Conditioning(poisonNegative: true), 2f, _image);
        Assert.Equal(clean.Model(_noise, 500f, 1.6f), one.Model(_noise, 500f, 1.6f));
        Assert.All(two.Model(_noise, 500f, 1.6f), v => Assert.True(float.IsNaN(v)));
    }

    private (int[] Patched, double SigmaEnd) RunStopAt(double stopAt)
    {
        using var denoiser = new GuidedDenoiser(_unet, Conditioning(), 1f, _image, stopAt: new StopAt(_unet, stopAt, DiscreteSchedule.Sdxl));
        Sampler.Run(new SamplerSettings(SamplerKind.Euler, ScheduleKind.Normal, 8), DiscreteSchedule.Sdxl, denoiser.Model, _noise);
        return (denoiser.PatchedCalls.Select(p => p ? 1 : 0).ToArray(), denoiser.SigmaEnd);
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
    public void StopAtRunsTheOriginalUnetBelowTheSwitch()
    {
        // The "original" differs by +1 on the output conv's bias, so its ε is the patched one's plus 1 everywhere.
        var bias = B.ToHost(_unet.Weights.Get("out.2.bias")).Select(v => v + 1f).ToArray();
        var shifted = new SdxlUnet(_unet.Config, _unet.Weights.With(new Dictionary<string, Tensor> { ["out.2.bias"] = B.FromHost(bias, bias.Length) }));
        using var denoiser = new GuidedDenoiser(_unet, Conditioning(), 1f, _image, stopAt: new StopAt(shifted, 0.5, DiscreteSchedule.Sdxl));
        var above = denoiser.Model(_noise, 999f, 2f);
        var below = denoiser.Model(_noise, 100f, 1f);
        using var plain = new GuidedDenoiser(_unet, Conditioning(), 1f, _image);
        Assert.Equal(plain.Model(_noise, 999f, 2f), above);
        var expected = plain.Model(_noise, 100f, 1f);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i] + 1f, below[i], 4);
        Assert.Equal([true, false], denoiser.PatchedCalls);
    }

    [Fact]
    public void NonFiniteCfgOrStopAtIsAnError()
    {
        Assert.Throws<InvalidOptionException>(() => new GuidedDenoiser(_unet, Conditioning(), float.NaN, _image));
        Assert.Throws<InvalidOptionException>(() => new GuidedDenoiser(_unet, Conditioning(), float.PositiveInfinity, _image));
        Assert.Throws<InvalidOptionException>(() => new GuidedDenoiser(_unet, Conditioning(), 5f, _image, stopAt: new StopAt(_unet, double.NaN, DiscreteSchedule.Sdxl)));
    }
}
