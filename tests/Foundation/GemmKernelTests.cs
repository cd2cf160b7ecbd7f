using LayerDiffusion.Native.Backends.Cpu;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// The outer-product GEMM (GemmOuter): its 8 × 32 AVX-512 tile and 4 × 16 AVX2 tile sum every output in the same
/// order (bit-identical), both match a double-precision loop, and bias and accumulation apply once per output.
/// </summary>
public sealed class GemmKernelTests
{
    [Theory]
    [InlineData(32, 128, 128)]   // the tiny UNet's attention projections
    [InlineData(154, 77, 33)]    // rows, columns and depth not multiples of any tile or block
    [InlineData(16, 9, 1)]       // depth 1
    [InlineData(300, 40, 700)]   // several row blocks, depth over many k blocks
    public void WideAndNarrowTilesAgreeAndMatchDoublePrecision(int m, int n, int k)
    {
        var a = NaiveOps.Rand(m * k, 21); var b = NaiveOps.Rand(n * k, 22); var bias = NaiveOps.Rand(n, 23);
        var wide = new float[m * n];
        var narrow = new float[m * n];
        GemmOuter.NT(a, b, wide, m, n, k, bias, accumulate: false);
        GemmOuter.NTNarrow(a, b, narrow, m, n, k, bias, accumulate: false);
        Assert.Equal(narrow, wide);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double want = bias[j];
                for (int q = 0; q < k; q++) want += (double)a[i * k + q] * b[j * k + q];
                Assert.True(Math.Abs(wide[i * n + j] - want) <= 1e-5 * (1 + Math.Abs(want)), $"C[{i}, {j}] = {wide[i * n + j]}, want {want}");
            }
    }

    [Fact]
    public void AccumulateAddsToWhatIsThere()
    {
        int m = 20, n = 11, k = 5;
        var a = NaiveOps.Rand(m * k, 24); var b = NaiveOps.Rand(n * k, 25);
        var once = new float[m * n];
        GemmOuter.NT(a, b, once, m, n, k, default, accumulate: false);
        var twice = (float[])once.Clone();
        GemmOuter.NT(a, b, twice, m, n, k, default, accumulate: true);
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], twice[i], 5);
    }

    [Fact]
    public void ARowsResultDoesNotDependOnHowManyRowsShareTheCall()
    {
        // Batched and one-at-a-time network passes must agree bit for bit (TransparentDecoderTests): few-row and
        // many-row products take different tiles but the same summation order.
        int n = 19, k = 300, many = 70;
        var a = NaiveOps.Rand(many * k, 26); var b = NaiveOps.Rand(n * k, 27); var bias = NaiveOps.Rand(n, 28);
        var all = new float[many * n];
        Gemm.NT(a, b, all, many, n, k, bias);
        foreach (int rows in new[] { 1, 3, 16, 17 })
        {
            var part = new float[rows * n];
            Gemm.NT(a.AsSpan(0, rows * k), b, part, rows, n, k, bias);
            Assert.Equal(all.AsSpan(0, rows * n).ToArray(), part);
        }
    }
}
