using LayerDiffusion.Native.Backends.Cpu;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>The vectorised exact GELU gives the scalar definition's results bit for bit, saturation, ±0, ±∞ and NaN included.</summary>
public sealed class GeluKernelTests
{
    [Fact]
    public void VectorisedGeluIsBitIdenticalToTheScalarPath()
    {
        var x = NaiveOps.Rand(4099, 31, 8f).Concat([0f, -0f, 5.999f, 6f, -6f, 6.01f, 1e30f, -1e30f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-30f, -4.2e-7f]).ToArray();
        var y = new float[x.Length];
        GeluKernel.Apply(x, default, y);
        for (int i = 0; i < x.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(CpuBackend.GeluExact(x[i])) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(y[i]) && float.IsNaN(x[i])),
                $"gelu({x[i]:R}) = {y[i]:R}, scalar {CpuBackend.GeluExact(x[i]):R}");
    }

    [Fact]
    public void GegluScalesByTheValueHalf()
    {
        var gate = NaiveOps.Rand(1001, 32, 4f); var value = NaiveOps.Rand(1001, 33, 2f);
        var y = new float[gate.Length];
        GeluKernel.Apply(gate, value, y);
        for (int i = 0; i < y.Length; i++) Assert.Equal(value[i] * CpuBackend.GeluExact(gate[i]), y[i]);
    }
}
