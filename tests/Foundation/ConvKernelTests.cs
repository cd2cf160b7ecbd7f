using LayerDiffusion.Native.Backends.Cpu;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// The direct convolution's register tiles: the 8 × 32 AVX-512 tile and the 4 × 16 AVX2 tile sum every output in
/// the same order, so they agree bit for bit (the golden results do not depend on the machine's vector width), and
/// both match a double-precision loop.
/// </summary>
public sealed class ConvKernelTests
{
    [Theory]
    [InlineData(1, 8, 128, 128, 8, 3, 1)]     // the transparent decoder's narrow layers (72 taps: three tap blocks)
    [InlineData(2, 32, 16, 16, 32, 3, 1)]     // a UNet level: positions span rows, 288 taps
    [InlineData(1, 16, 128, 128, 8, 1, 0)]    // a 1×1 skip connection
    [InlineData(1, 13, 9, 37, 11, 3, 1)]      // channel remainders in both tiles, odd width
    [InlineData(1, 4, 6, 6, 3, 5, 2)]         // a wider kernel, fewer outputs than one tile
    public void WideAndNarrowTilesAgreeBitForBit(int n, int ci, int h, int w, int co, int k, int pad)
    {
        var x = NaiveOps.Rand(n * ci * h * w, 11); var wt = NaiveOps.Rand(co * ci * k * k, 12); var b = NaiveOps.Rand(co, 13);
        int ho = h + 2 * pad - k + 1, wo = w + 2 * pad - k + 1;
        var wide = new float[n * co * ho * wo];
        var narrow = new float[wide.Length];
        DirectConv.Run(x, wt, b, wide, n, ci, h, w, co, k, k, pad);
        DirectConv.RunNarrow(x, wt, b, narrow, n, ci, h, w, co, k, k, pad);
        Assert.Equal(narrow, wide);
        var want = NaiveOps.Conv2d(x, wt, b, n, ci, h, w, co, k, 1, pad);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(wide[i] - want[i]) <= 1e-5 * (1 + Math.Abs(want[i])), $"element {i} = {wide[i]}, want {want[i]}");
    }

}
