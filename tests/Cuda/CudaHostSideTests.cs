using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Verify;
using Xunit;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>Host-side logic of the CUDA backend that needs no GPU.</summary>
public sealed class CudaHostSideTests
{
    [Fact]
    public void AutoFallsBackToCpuSayingWhyWhenThereIsNoGpu()
    {
        var log = new StringWriter();
        using var b = DeviceSelection.Create("auto", Precision.Fp32, log);
        if (GpuAvailability.SkipReason is null)
        {
            Assert.IsType<CudaBackend>(b);
            return;
        }
        Assert.Equal("cpu", b.Name);
        Assert.Contains("no usable GPU", log.ToString());
        Assert.Contains("libcuda", log.ToString());
    }

    [Fact]
    public void ExplicitCudaWithoutGpuIsAnErrorNamingTheReason()
    {
        if (GpuAvailability.SkipReason is null)
        {
            // A GPU is present: the same request gives the CUDA backend and says which device it got.
            var log = new StringWriter();
            using var b = DeviceSelection.Create("cuda", Precision.Fp16, log);
            Assert.IsType<CudaBackend>(b);
            Assert.Contains("device: cuda", log.ToString());
            return;
        }
        // The engine names the setting as the C# API spells it (the CLI turns it back into --device).
        var e = Assert.Throws<InvalidSettingException>(() => DeviceSelection.Create("cuda", Precision.Fp16, TextWriter.Null));
        Assert.Equal("Device", e.Setting);
        Assert.Contains("cuda: no usable GPU", e.Message);
        Assert.Contains("libcuda", e.Message);
    }

    [Theory]
    [InlineData(new[] { 2, 320, 16, 16 }, new[] { 2, 320, 16, 16 }, new[] { 2 * 320 * 16 * 16 }, new long[] { 1 }, new long[] { 1 })]
    [InlineData(new[] { 2, 320, 16, 16 }, new[] { 320, 1, 1 }, new[] { 2, 320, 256 }, new long[] { 320 * 256, 256, 1 }, new long[] { 0, 1, 0 })]
    [InlineData(new[] { 2, 77, 768 }, new[] { 768 }, new[] { 154, 768 }, new long[] { 768, 1 }, new long[] { 0, 1 })]
    [InlineData(new[] { 3, 5, 7 }, new[] { 1 }, new[] { 105 }, new long[] { 1 }, new long[] { 0 })]
    [InlineData(new[] { 2, 1, 5 }, new[] { 3, 1 }, new[] { 2, 3, 5 }, new long[] { 5, 0, 1 }, new long[] { 0, 1, 0 })]
    public void BroadcastCollapsesToTheFewestAxes(int[] a, int[] b, int[] shape, long[] strideA, long[] strideB)
    {
        var (_, plan) = BroadcastPlan.Make(a, b);
        Assert.Equal(shape, plan.Shape);
        Assert.Equal(strideA, plan.StrideA);
        Assert.Equal(strideB, plan.StrideB);
    }

    [Fact]
    public void BroadcastRejectsIncompatibleShapes() =>
        Assert.Throws<ArgumentException>(() => BroadcastPlan.Make([2, 3], [4]));

    [Theory]
    [InlineData(1, 512)]
    [InlineData(513, 1024)]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData((1 << 20) + 1, (1 << 20) + (1 << 17))]
    [InlineData(3_000_000_000L, 3_221_225_472L)]
    public void PoolSizeClassesBoundTheSlack(long bytes, long expected)
    {
        long r = DevicePool.RoundSize(bytes);
        Assert.Equal(expected, r);
        Assert.True(r >= bytes && r - bytes <= Math.Max(511, bytes / 8));
    }
}
