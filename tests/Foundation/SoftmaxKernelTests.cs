using System.Runtime.Intrinsics;
using LayerDiffusion.Native.Backends.Cpu;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// Attention's vectorised softmax row: the Vector512 and Vector256 paths give the same bits at every length and
/// causal cut (tails through a padded vector), and both match the double-precision formula within a few float
/// roundings; entries past the cut are 0.
/// </summary>
public sealed class SoftmaxKernelTests
{
    [Fact]
    public void WidthsAgreeBitForBitAndMatchDouble()
    {
        if (!Vector256.IsHardwareAccelerated) return;
        var x = NaiveOps.Rand(300, 31, 6f);
        const float scale = 0.125f;
        foreach (int n in new[] { 1, 5, 8, 15, 16, 17, 33, 77, 300 })
            foreach (int valid in new[] { n, Math.Max(1, n / 2), 1 })
            {
                var narrow = x[..n];
                SoftmaxKernel.Row256(narrow, scale, valid);
                narrow.AsSpan(valid).Clear();
                if (Vector512.IsHardwareAccelerated)
                {
                    var wide = x[..n];
                    SoftmaxKernel.Row512(wide, scale, valid);
                    wide.AsSpan(valid).Clear();
                    Assert.Equal(narrow, wide);
                }
                var viaEntry = x[..n];
                SoftmaxKernel.Row(viaEntry, scale, valid);
                Assert.Equal(narrow, viaEntry);

                double max = double.NegativeInfinity;
                for (int j = 0; j < valid; j++) max = Math.Max(max, (double)(x[j] * scale));
                double sum = 0;
                for (int j = 0; j < valid; j++) sum += Math.Exp(x[j] * scale - max);
                for (int j = 0; j < n; j++)
                {
                    double want = j < valid ? Math.Exp(x[j] * scale - max) / sum : 0;
                    Assert.True(Math.Abs(narrow[j] - want) <= 8 * 6e-8 * want + 1e-38, $"n {n}, valid {valid}, entry {j}: {narrow[j]}, want {want}");
                }
            }
    }
}
