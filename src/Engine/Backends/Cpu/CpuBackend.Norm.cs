using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cpu;

public sealed partial class CpuBackend
{
    public Tensor GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, bool silu)
    {
        int n = x.Dim(0), c = x.Dim(1);
        if (c % groups != 0) throw new ArgumentException($"GroupNorm: {c} channels not divisible by {groups} groups");
        int spatial = x.Count / (n * c), cpg = c / groups, len = cpg * spatial;
        var y = New((int[])x.Shape.Clone());
        var xs = C(x).Data; var g = C(gamma).Data; var bt = C(beta).Data;
        CpuParallel.For(n * groups, 3L * len, (ngStart, ngEnd) =>
        {
            for (int ng = ngStart; ng < ngEnd; ng++)
            {
                int off = ng * len, grp = ng % groups;
                var src = xs.AsSpan(off, len);
                double sum = 0;
                foreach (float v in src) sum += v;
                double mean = sum / len, sq = 0;
                foreach (float v in src) { double d = v - mean; sq += d * d; }
                float inv = (float)(1.0 / Math.Sqrt(sq / len + eps)), m = (float)mean;
                var dst = y.Data.AsSpan(off, len);
                for (int ch = 0; ch < cpg; ch++)
                {
                    int cc = grp * cpg + ch;
                    float a = g[cc] * inv, b = bt[cc] - m * g[cc] * inv;
                    var s = src.Slice(ch * spatial, spatial);
                    var d = dst.Slice(ch * spatial, spatial);
                    for (int i = 0; i < spatial; i++)
                    {
                        float v = s[i] * a + b;
                        d[i] = silu ? v / (1f + MathF.Exp(-v)) : v;
                    }
                }
            }
        });
        return y;
    }

    public Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps)
    {
        int n = x.Dim(-1), rows = x.Count / n;
        var y = New((int[])x.Shape.Clone());
        var xs = C(x).Data; var g = C(gamma).Data; var bt = C(beta).Data;
        CpuParallel.For(rows, 3L * n, (rStart, rEnd) =>
        {
            for (int r = rStart; r < rEnd; r++)
            {
                var src = xs.AsSpan(r * n, n);
                double sum = 0;
                foreach (float v in src) sum += v;
                double mean = sum / n, sq = 0;
                foreach (float v in src) { double d = v - mean; sq += d * d; }
                float inv = (float)(1.0 / Math.Sqrt(sq / n + eps)), m = (float)mean;
                var dst = y.Data.AsSpan(r * n, n);
                for (int i = 0; i < n; i++) dst[i] = (src[i] - m) * inv * g[i] + bt[i];
            }
        });
        return y;
    }
}
