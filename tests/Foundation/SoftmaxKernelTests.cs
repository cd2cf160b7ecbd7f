using System.Runtime.Intrinsics;
using LayerDiffusion.Native.Backends.Cpu;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// Attention's vectorised softmax row: the Vector512 and Vector256 paths give the same bits at every length and
/// causal cut (tails through a padded vector), and the path the machine takes (the scalar one without 256-bit
/// vectors) matches the double-precision formula within a few float roundings, with entries past the cut 0.
/// </summary>
public sealed class SoftmaxKernelTests
{
    [Fact]
    public void WidthsAgreeBitForBitAndMatchDouble()
    {
        var x = NaiveOps.Rand(300, 31, 6f);
        const float scale = 0.125f;
        foreach (int n in new[] { 1, 5, 8, 15, 16, 17, 33, 77, 300 })
            foreach (int valid in new[] { n, Math.Max(1, n / 2), 1 })
            {
                // The entry point's result: the widest path this machine has (Vector512, else Vector256, else the
                // scalar formulas), checked against the Vector256 path bit for bit where that is not the one it took.
                var result = x[..n];
                SoftmaxKernel.Row(result, scale, valid);
                if (Vector256.IsHardwareAccelerated)
                {
                    var narrow = x[..n];
                    SoftmaxKernel.Row256(narrow, scale, valid);
                    narrow.AsSpan(valid).Clear();
                    Assert.Equal(narrow, result);
                }

                double max = double.NegativeInfinity;
                for (int j = 0; j < valid; j++) max = Math.Max(max, (double)(x[j] * scale));
                double sum = 0;
                for (int j = 0; j < valid; j++) sum += Math.Exp(x[j] * scale - max);
                for (int j = 0; j < n; j++)
                {
                    double want = j < valid ? Math.Exp(x[j] * scale - max) / sum : 0;
                    Assert.True(Math.Abs(result[j] - want) <= 8 * 6e-8 * want + 1e-38, $"n {n}, valid {valid}, entry {j}: {result[j]}, want {want}");
                }
            }
    }
}
