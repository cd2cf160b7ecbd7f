using System.Runtime.Intrinsics;
using LayerDiffusion.Native.Backends.Cpu;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// GroupNorm's one-pass scale, shift and SiLU: the Vector512 and Vector256 paths give the same bits at every length
/// (tails go through a padded vector, so an element's result does not depend on where it sits), and the path the
/// machine takes (the scalar one without 256-bit vectors) is within a few float roundings of the double-precision formula.
/// </summary>
public sealed class ScaleShiftKernelTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WidthsAgreeBitForBitAndMatchDouble(bool silu)
    {
        var x = NaiveOps.Rand(300, 21, 12f);
        const float a = 0.73f, b = -0.41f;
        foreach (int n in new[] { 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 300 })
        {
            var src = x.AsSpan(0, n);
            // The entry point's result: the widest path this machine has (Vector512, else Vector256, else the scalar
            // formulas), checked against the Vector256 path bit for bit where that is not the one it took.
            var result = new float[n];
            ScaleShiftKernel.Apply(src, a, b, result, affine: true, silu);
            if (Vector256.IsHardwareAccelerated)
            {
                var narrow = new float[n];
                ScaleShiftKernel.Apply256(src, a, b, narrow, affine: true, silu);
                Assert.Equal(narrow, result);
            }
            for (int i = 0; i < n; i++)
            {
                double v = (double)(src[i] * a) + b;   // the multiply rounds to float first, as the kernel's does
                if (silu) v /= 1 + Math.Exp(-v);
                // a float multiply, add and divide, and the vector exp's few ulp: 8 float roundings of the result
                double tol = 8 * 6e-8 * (Math.Abs(v) + 1e-30) + (silu ? 1e-37 : 0);
                Assert.True(Math.Abs(result[i] - v) <= tol, $"n {n}, element {i}: {result[i]}, want {v}");
            }
        }
    }

    [Fact]
    public void InPlaceSiluEqualsTheOutOfPlacePath()
    {
        var x = NaiveOps.Rand(77, 22, 9f);
        var copy = (float[])x.Clone();
        var y = new float[x.Length];
        ScaleShiftKernel.Apply(x, 1f, 0f, y, affine: false, silu: true);
        ScaleShiftKernel.Apply(copy, 1f, 0f, copy, affine: false, silu: true);
        Assert.Equal(y, copy);
    }
}
