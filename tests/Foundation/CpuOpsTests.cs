using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>The CPU backend's fast kernels against naive loops written straight from the definitions.</summary>
public sealed class CpuOpsTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    private static float[] Rand(int n, int seed, float scale = 1f) => NaiveOps.Rand(n, seed, scale);

    private static void Close(float[] want, float[] got, double tol = 1e-5)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= tol * (1 + Math.Abs(want[i])), $"element {i}: want {want[i]} got {got[i]}");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 3)]
    [InlineData(77, 64, 128)]
    [InlineData(130, 33, 515)]
    public void LinearMatchesNaive(int m, int n, int k)
    {
        var x = Rand(m * k, 1); var w = Rand(n * k, 2); var b = Rand(n, 3);
        var want = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = b[j];
                for (int q = 0; q < k; q++) s += (double)x[i * k + q] * w[j * k + q];
                want[i * n + j] = (float)s;
            }
        var y = B.Linear(B.FromHost(x, m, k), B.FromHost(w, n, k), B.FromHost(b, n));
        Assert.Equal(new[] { m, n }, y.Shape);
        Close(want, B.ToHost(y), 1e-5);
    }

    [Theory]
    [InlineData(1, 3, 5, 7, 4, 3, 1, 1)]
    [InlineData(2, 4, 9, 8, 6, 3, 2, 1)]
    [InlineData(1, 6, 8, 8, 5, 1, 1, 0)]
    [InlineData(1, 2, 7, 6, 3, 3, 2, 0)]
    public void Conv2dMatchesNaive(int n, int ci, int h, int w, int co, int kk, int stride, int pad)
    {
        var x = Rand(n * ci * h * w, 4); var wt = Rand(co * ci * kk * kk, 5); var b = Rand(co, 6);
        int ho = (h + 2 * pad - kk) / stride + 1, wo = (w + 2 * pad - kk) / stride + 1;
        var want = NaiveOps.Conv2d(x, wt, b, n, ci, h, w, co, kk, stride, pad).Select(v => (float)v).ToArray();
        var y = B.Conv2d(B.FromHost(x, n, ci, h, w), B.FromHost(wt, co, ci, kk, kk), B.FromHost(b, co), stride, pad);
        Assert.Equal(new[] { n, co, ho, wo }, y.Shape);
        Close(want, B.ToHost(y));
    }

    [Theory]
    [InlineData(2, 5, 7, 2, 8, false)]
    [InlineData(1, 77, 77, 1, 64, true)]
    [InlineData(2, 16, 77, 2, 64, false)]
    [InlineData(1, 9, 9, 3, 8, true)]
    [InlineData(1, 9, 5, 2, 8, true)]
    public void AttentionMatchesNaive(int b, int nq, int nk, int heads, int d, bool causal)
    {
        int w = heads * d;
        var q = Rand(b * nq * w, 7); var k = Rand(b * nk * w, 8); var v = Rand(b * nk * w, 9);
        var want = new float[b * nq * w];
        for (int bi = 0; bi < b; bi++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < nq; i++)
                {
                    var s = new double[nk];
                    double max = double.NegativeInfinity;
                    int valid = causal ? Math.Min(nk, i + 1) : nk;
                    for (int j = 0; j < valid; j++)
                    {
                        double dot = 0;
                        for (int t = 0; t < d; t++) dot += (double)q[(bi * nq + i) * w + h * d + t] * k[(bi * nk + j) * w + h * d + t];
                        s[j] = dot / Math.Sqrt(d);
                        max = Math.Max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < valid; j++) { s[j] = Math.Exp(s[j] - max); sum += s[j]; }
                    for (int t = 0; t < d; t++)
                    {
                        double o = 0;
                        for (int j = 0; j < valid; j++) o += s[j] / sum * v[(bi * nk + j) * w + h * d + t];
                        want[(bi * nq + i) * w + h * d + t] = (float)o;
                    }
                }
        var y = B.Attention(B.FromHost(q, b, nq, w), B.FromHost(k, b, nk, w), B.FromHost(v, b, nk, w), heads, causal);
        Close(want, B.ToHost(y));
    }

    [Fact]
    public void GroupNormSiluMatchesNaive()
    {
        int n = 2, c = 8, hw = 6, groups = 4;
        var x = Rand(n * c * hw, 10, 3); var g = Rand(c, 11); var bt = Rand(c, 12);
        var want = new float[x.Length];
        int cpg = c / groups;
        for (int bi = 0; bi < n; bi++)
            for (int gr = 0; gr < groups; gr++)
            {
                var idx = Enumerable.Range(0, cpg * hw).Select(i => (bi * c + gr * cpg) * hw + i).ToArray();
                double mean = idx.Average(i => (double)x[i]);
                double var = idx.Average(i => (x[i] - mean) * (x[i] - mean));
                foreach (int i in idx)
                {
                    int ch = i / hw % c;
                    double v = (x[i] - mean) / Math.Sqrt(var + 1e-5) * g[ch] + bt[ch];
                    want[i] = (float)(v / (1 + Math.Exp(-v)));
                }
            }
        var y = B.GroupNorm(B.FromHost(x, n, c, 2, 3), groups, B.FromHost(g, c), B.FromHost(bt, c), 1e-5f, silu: true);
        Close(want, B.ToHost(y));
    }

    [Fact]
    public void GeluIsExactErf()
    {
        // Reference values of 0.5 x (1 + erf(x / sqrt 2)) computed in double precision elsewhere (Python's math.erf).
        float[] xs = [-4f, -1.5f, -0.3f, 0f, 0.2f, 0.7f, 1f, 2.5f, 5f];
        double[] want = [-0.00012668496733247991, -0.10021080190328713, -0.1146265733433142, 0, 0.11585194188782061, 0.5306254434438489, 0.8413447460685429, 2.4844758366855597, 4.999998566742141];
        var got = B.ToHost(B.Gelu(B.FromHost(xs, xs.Length)));
        for (int i = 0; i < xs.Length; i++) Assert.True(Math.Abs(got[i] - want[i]) < 1e-6, $"gelu({xs[i]}) = {got[i]}, want {want[i]}");
    }

    [Fact]
    public void BroadcastAddsPerChannelAndPerRow()
    {
        var x = Rand(2 * 3 * 4, 13); var c = Rand(2 * 3, 14); var r = Rand(4, 15);
        var y1 = B.ToHost(B.Add(B.FromHost(x, 2, 3, 2, 2), B.FromHost(c, 2, 3, 1, 1)));
        var y2 = B.ToHost(B.Mul(B.FromHost(x, 2, 3, 4), B.FromHost(r, 4)));
        var y3 = B.ToHost(B.Sub(B.FromHost(c, 2, 3, 1), B.FromHost(x, 2, 3, 4)));
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[i] + c[i / 4], y1[i], 6);
            Assert.Equal(x[i] * r[i % 4], y2[i], 6);
            Assert.Equal(c[i / 4] - x[i], y3[i], 6);
        }
    }

    [Fact]
    public void LayoutOpsMatchDefinitions()
    {
        var x = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        var t = B.FromHost(x, 2, 3, 4);
        var p = B.ToHost(B.Permute(t, 2, 0, 1));
        for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++) for (int c = 0; c < 4; c++)
            Assert.Equal(x[(a * 3 + b) * 4 + c], p[(c * 2 + a) * 3 + b]);
        var cat = B.Concat(1, t, B.Slice(t, 1, 1, 2));
        Assert.Equal(new[] { 2, 5, 4 }, cat.Shape);
        var cs = B.ToHost(cat);
        Assert.Equal(x[1 * 4 + 0], cs[3 * 4]);
        Assert.Equal(x[12 + 2 * 4 + 3], cs[20 + 4 * 4 + 3]);
        var up = B.ToHost(B.Upsample2x(B.FromHost(x, 1, 2, 3, 4)));
        Assert.Equal(x[1 * 12 + 2 * 4 + 3], up[(1 * 6 + 5) * 8 + 7]);
    }

    [Fact]
    public void FlipRotInverseRestoresAndRot90MatchesTorch()
    {
        var x = Enumerable.Range(0, 2 * 3 * 5).Select(i => (float)i).ToArray();
        var t = B.FromHost(x, 1, 2, 3, 5);
        // torch.rot90(x, 1, (2, 3)) of a 3x5 plane: out[i, j] = in[j, 4 - i], shape 5x3.
        var r = B.FlipRot(t, false, 1, false);
        Assert.Equal(new[] { 1, 2, 5, 3 }, r.Shape);
        var rv = B.ToHost(r);
        Assert.Equal(x[0 * 5 + 4], rv[0]);
        Assert.Equal(x[2 * 5 + 0], rv[4 * 3 + 2]);
        for (int k = 0; k < 4; k++)
            foreach (bool flip in new[] { false, true })
                Assert.Equal(x, B.ToHost(B.FlipRot(B.FlipRot(t, flip, k, false), flip, k, true)));
    }

    [Fact]
    public void Median8IsTheFourthSmallest()
    {
        var xs = Enumerable.Range(0, 8).Select(i => B.FromHost(new float[] { 8 - i, i * 0.5f, i == 3 ? 100 : -i }, 3)).ToArray();
        var m = B.ToHost(B.Median8(xs));
        Assert.Equal(new float[] { 4, 1.5f, -4 }, m);
    }
}
