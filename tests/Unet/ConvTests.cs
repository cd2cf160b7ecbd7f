using LayerDiffusion.Native.Backends.Cpu;
using Xunit;

namespace LayerDiffusion.Native.Tests.Unet;

/// <summary>The CPU convolution at the shapes the UNet and VAE use (several batches, channel remainders, many tiles) against a double-precision loop.</summary>
public sealed class ConvTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    [Theory]
    [InlineData(2, 7, 13, 11, 9, 3, 1, 1)]    // out channels not a multiple of the register tile
    [InlineData(1, 5, 40, 37, 6, 3, 1, 1)]    // many position blocks, odd width
    [InlineData(3, 16, 4, 4, 33, 3, 1, 1)]    // the UNet's deepest level (small outputs take the im2col path)
    [InlineData(2, 12, 9, 10, 8, 1, 1, 0)]    // 1×1 skip connections
    [InlineData(1, 3, 12, 10, 4, 5, 1, 2)]    // a wider kernel
    [InlineData(1, 4, 12, 9, 5, 3, 1, 0)]     // no padding
    [InlineData(2, 6, 17, 15, 5, 3, 2, 0)]    // stride 2 (the VAE encoder's downsample, after its own padding)
    public void MatchesDoublePrecisionLoop(int n, int ci, int h, int w, int co, int k, int stride, int pad)
    {
        var x = NaiveOps.Rand(n * ci * h * w, 1); var wt = NaiveOps.Rand(co * ci * k * k, 2); var b = NaiveOps.Rand(co, 3);
        var got = B.ToHost(B.Conv2d(B.FromHost(x, n, ci, h, w), B.FromHost(wt, co, ci, k, k), B.FromHost(b, co), stride, pad));
        var want = NaiveOps.Conv2d(x, wt, b, n, ci, h, w, co, k, stride, pad);
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= 1e-5 * (1 + Math.Abs(want[i])), $"element {i} = {got[i]}, want {want[i]}");
    }

    [Theory]
    [InlineData(2, 6, 9, 7, 6, 3, 1, 1)]      // a ResNet block's second convolution + skip
    [InlineData(1, 8, 12, 10, 4, 1, 1, 0)]    // 1×1
    [InlineData(2, 5, 11, 9, 3, 3, 2, 1)]     // strided
    public void Conv2dAddIsTheConvolutionPlusTheResidual(int n, int ci, int h, int w, int co, int k, int stride, int pad)
    {
        int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
        var x = NaiveOps.Rand(n * ci * h * w, 4); var wt = NaiveOps.Rand(co * ci * k * k, 5); var b = NaiveOps.Rand(co, 6);
        var r = NaiveOps.Rand(n * co * ho * wo, 7);
        var got = B.ToHost(B.Conv2dAdd(B.FromHost(x, n, ci, h, w), B.FromHost(wt, co, ci, k, k), B.FromHost(b, co), stride, pad, B.FromHost(r, n, co, ho, wo)));
        var want = NaiveOps.Conv2d(x, wt, b, n, ci, h, w, co, k, stride, pad);
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - (want[i] + r[i])) <= 1e-5 * (1 + Math.Abs(want[i] + r[i])), $"element {i} = {got[i]}, want {want[i] + r[i]}");
    }

    [Fact]
    public void Conv2dAddRejectsAResidualOfAnotherShape()
    {
        var x = B.FromHost(NaiveOps.Rand(2 * 3 * 8 * 8, 1), 2, 3, 8, 8);
        var w = B.FromHost(NaiveOps.Rand(4 * 3 * 3 * 3, 2), 4, 3, 3, 3);
        var r = B.FromHost(NaiveOps.Rand(2 * 4 * 6 * 6, 3), 2, 4, 6, 6); // the output is [2, 4, 8, 8] with padding 1
        var e = Assert.Throws<ArgumentException>(() => B.Conv2dAdd(x, w, null, 1, 1, r));
        Assert.Contains("residual [2, 4, 6, 6]", e.Message);
    }
}
