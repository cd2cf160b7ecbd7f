using LayerDiffusion.Native.Backends.Cpu;
using Xunit;

namespace LayerDiffusion.Native.Tests.Unet;

/// <summary>The CPU convolution at the shapes the UNet and VAE use (several batches, channel remainders, many tiles) against a double-precision loop.</summary>
public sealed class ConvTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    private static float[] Rand(int n, int seed)
    {
        var r = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

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
        var x = Rand(n * ci * h * w, 1); var wt = Rand(co * ci * k * k, 2); var b = Rand(co, 3);
        int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
        var got = B.ToHost(B.Conv2d(B.FromHost(x, n, ci, h, w), B.FromHost(wt, co, ci, k, k), B.FromHost(b, co), stride, pad));
        Assert.Equal(n * co * ho * wo, got.Length);
        for (int bi = 0; bi < n; bi++)
            for (int o = 0; o < co; o++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++)
                    {
                        double s = b[o];
                        for (int c = 0; c < ci; c++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                    if ((uint)iy < (uint)h && (uint)ix < (uint)w)
                                        s += (double)x[((bi * ci + c) * h + iy) * w + ix] * wt[((o * ci + c) * k + ky) * k + kx];
                                }
                        float g = got[((bi * co + o) * ho + oy) * wo + ox];
                        Assert.True(Math.Abs(g - s) <= 1e-5 * (1 + Math.Abs(s)), $"[{bi},{o},{oy},{ox}] = {g}, want {s}");
                    }
    }
}
