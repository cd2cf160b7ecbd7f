using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cpu;

public sealed partial class CpuBackend
{
    public Tensor GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, bool silu)
    {
        ShapeRules.GroupNorm(x, groups, gamma, beta);
        int n = x.Dim(0), c = x.Dim(1);
        int spatial = x.Count / Math.Max(1, n * c), cpg = c / groups, len = cpg * spatial;
        var y = New((int[])x.Shape.Clone());
        var xs = C(x).Data; var g = C(gamma).Data; var bt = C(beta).Data;
        CpuParallel.For(n * groups, 3L * len, (ngStart, ngEnd) =>
        {
            for (int ng = ngStart; ng < ngEnd; ng++)
            {
                int off = ng * len, grp = ng % groups;
                var src = xs.AsSpan(off, len);
                var (mean, variance) = MeanVariance(src);
                float inv = (float)(1.0 / Math.Sqrt(variance + eps)), m = (float)mean;
                var dst = y.Data.AsSpan(off, len);
                for (int ch = 0; ch < cpg; ch++)
                {
                    int cc = grp * cpg + ch;
                    float a = g[cc] * inv, b = bt[cc] - m * g[cc] * inv;
                    ScaleShiftKernel.Apply(src.Slice(ch * spatial, spatial), a, b, dst.Slice(ch * spatial, spatial), affine: true, silu);
                }
            }
        });
        return y;
    }

    /// <summary>The reference: the sum in fp32, then GroupNorm.</summary>
    public Tensor GroupNormAdd(Tensor x, Tensor add, int groups, Tensor gamma, Tensor beta, float eps, bool silu)
    {
        ShapeRules.GroupNormAdd(x, add);
        var bshape = new int[x.Rank];
        Array.Fill(bshape, 1);
        bshape[0] = x.Dim(0);
        bshape[1] = x.Dim(1);
        using var a = Reshape(add, bshape);
        using var sum = Add(x, a);
        return GroupNorm(sum, groups, gamma, beta, eps, silu);
    }

    public Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps)
    {
        ShapeRules.LayerNorm(x, gamma, beta);
        int n = x.Dim(-1), rows = x.Count / Math.Max(1, n);
        var y = New((int[])x.Shape.Clone());
        var xs = C(x).Data; var g = C(gamma).Data; var bt = C(beta).Data;
        CpuParallel.For(rows, 3L * n, (rStart, rEnd) =>
        {
            for (int r = rStart; r < rEnd; r++)
            {
                var src = xs.AsSpan(r * n, n);
                var (mean, variance) = MeanVariance(src);
                float inv = (float)(1.0 / Math.Sqrt(variance + eps)), m = (float)mean;
                var dst = y.Data.AsSpan(r * n, n);
                for (int i = 0; i < n; i++) dst[i] = (src[i] - m) * inv * g[i] + bt[i];
            }
        });
        return y;
    }

    /// <summary>Mean and (biased) variance of a span, accumulated in double (two passes, as before, but 4 lanes wide).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static (double Mean, double Variance) MeanVariance(ReadOnlySpan<float> src)
    {
        int n = src.Length, i = 0;
        var acc = Vector256<double>.Zero;
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.Create(src.Slice(i, 8));
            acc += Vector256.WidenLower(v) + Vector256.WidenUpper(v);
        }
        double sum = Vector256.Sum(acc);
        for (; i < n; i++) sum += src[i];
        double mean = sum / n;
        var m = Vector256.Create(mean);
        acc = Vector256<double>.Zero;
        for (i = 0; i + 8 <= n; i += 8)
        {
            var v = Vector256.Create(src.Slice(i, 8));
            var lo = Vector256.WidenLower(v) - m;
            var hi = Vector256.WidenUpper(v) - m;
            acc += lo * lo + hi * hi;
        }
        double sq = Vector256.Sum(acc);
        for (; i < n; i++) { double d = src[i] - mean; sq += d * d; }
        return (mean, sq / n);
    }
}
