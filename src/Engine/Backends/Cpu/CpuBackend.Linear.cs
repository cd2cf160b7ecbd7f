using System.Runtime.Intrinsics;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cpu;

public sealed partial class CpuBackend
{
    private ConstantProducts? _products;

    /// <summary>Kept Linear products of held constant inputs (the cross-attention K/V cache, see <see cref="ConstantProducts"/>).</summary>
    public ConstantProducts Products => _products ??= new(t => Reshape(t, t.Shape));

    public IDisposable HoldProductsOf(IReadOnlyList<Tensor> constants) => Products.Hold(constants);

    public Tensor Linear(Tensor x, Tensor w, Tensor? bias)
    {
        if (Products.TryGet(x, w, bias) is { } kept) return kept;
        var y = New(ShapeRules.Linear(x, w, bias));
        int k = x.Dim(-1), n = w.Dim(0), m = x.Count / Math.Max(1, k);
        Gemm.NT(C(x).Data, C(w).Data, y.Data, m, n, k, bias is null ? default : C(bias).Data);
        Products.Keep(x, w, bias, y);
        return y;
    }

    public Tensor LinearAdd(Tensor x, Tensor w, Tensor? bias, Tensor residual)
    {
        ShapeRules.LinearAdd(x, w, bias, residual);
        var y = (CpuTensor)Linear(x, w, bias);
        System.Numerics.Tensors.TensorPrimitives.Add(y.Data, C(residual).Data, y.Data);
        return y;
    }

    public Tensor MatMul(Tensor a, Tensor b)
    {
        var y = New(ShapeRules.MatMul(a, b));
        int batch = a.Rank == 3 ? a.Dim(0) : 1;
        int m = a.Dim(-2), k = a.Dim(-1), n = b.Dim(-1);
        var bt = new float[k * n];
        for (int i = 0; i < batch; i++)
        {
            int bOff = b.Rank == 3 ? i * k * n : 0;
            Gemm.Transpose(C(b).Data.AsSpan(bOff, k * n), bt, k, n);
            Gemm.NT(C(a).Data.AsSpan(i * m * k, m * k), bt, y.Data.AsSpan(i * m * n, m * n), m, n, k);
        }
        return y;
    }

    /// <summary>
    /// Convolution as GEMM: out[o, p] = Σ W[o, (c, ky, kx)] · col[p, (c, ky, kx)], with col built for a band of
    /// output rows at a time so the im2col buffer stays bounded at large images.
    /// </summary>
    public Tensor Conv2d(Tensor x, Tensor w, Tensor? bias, int stride, int padding)
    {
        var y = New(ShapeRules.Conv2d(x, w, bias, stride, padding));
        int n = x.Dim(0), ci = x.Dim(1), h = x.Dim(2), wd = x.Dim(3);
        int co = w.Dim(0), kh = w.Dim(2), kw = w.Dim(3), ho = y.Dim(2), wo = y.Dim(3);
        int kdim = ci * kh * kw;
        var xs = C(x).Data; var ws = C(w).Data;
        float[]? bs = bias is null ? null : C(bias).Data;
        // Direct convolution wastes the padding columns of each row: worth it from about 8×8 outputs up.
        if (stride == 1 && ho * wo >= 64 && Vector256.IsHardwareAccelerated)
        {
            DirectConv.Run(xs, ws, bs, y.Data, n, ci, h, wd, co, kh, kw, padding);
            return y;
        }
        // Positions × output channels, the weights as the B operand read in place (a product whose rows are the
        // weights would copy and transpose them on every call): C[p, o] = Σk col[p, k]·W[o, k] + bias[o], the same
        // fused multiply-add chain per output either way round, then transposed into the output planes. The im2col
        // rows are written straight into the GEMM's k-major panels (no separate copy).
        int bandRows = Math.Max(1, Math.Min(ho, (1 << 22) / Math.Max(1, kdim * wo)));
        int maxRows = (bandRows * wo + 31) / 32 * 32;   // room for the widest panel's padding rows
        var panels = new float[maxRows * kdim];
        var band = new float[bandRows * wo * co];
        for (int b = 0; b < n; b++)
        {
            for (int r0 = 0; r0 < ho; r0 += bandRows)
            {
                int rows = Math.Min(bandRows, ho - r0), p = rows * wo;
                Im2ColPanels(xs.AsSpan(b * ci * h * wd, ci * h * wd), panels, ci, h, wd, kh, kw, stride, padding, r0, p, wo, GemmOuter.PanelRows(p));
                GemmOuter.NTPanels(panels, ws, band.AsSpan(0, p * co), p, co, kdim, bs);
                var dst = y.Data.AsSpan(b * co * ho * wo + r0 * wo);
                for (int o = 0; o < co; o++)
                {
                    var plane = dst.Slice(o * ho * wo, p);
                    for (int i = 0; i < p; i++) plane[i] = band[i * co + o];
                }
            }
        }
        return y;
    }

    /// <summary>The reference of the fused op: the convolution, then the residual added in fp32.</summary>
    public Tensor Conv2dAdd(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor residual)
    {
        ShapeRules.Conv2d(x, w, bias, stride, padding, residual);
        var y = (CpuTensor)Conv2d(x, w, bias, stride, padding);
        System.Numerics.Tensors.TensorPrimitives.Add(y.Data, C(residual).Data, y.Data);
        return y;
    }

    /// <summary>
    /// The im2col matrix of one band of output rows (p positions × taps (c, ky, kx)) in GemmOuter's panel layout:
    /// panel by panel of <paramref name="panelRows"/> positions, at[panel][tap][row], padding rows zero. Each tap
    /// writes a panel's positions contiguously.
    /// </summary>
    private static void Im2ColPanels(ReadOnlySpan<float> x, float[] at, int ci, int h, int w, int kh, int kw, int stride, int pad, int r0, int p, int wo, int panelRows)
    {
        int kdim = ci * kh * kw;
        Span<int> iy0 = stackalloc int[panelRows], ix0 = stackalloc int[panelRows];
        for (int i0 = 0; i0 < p; i0 += panelRows)
        {
            int rows = Math.Min(panelRows, p - i0);
            for (int r = 0; r < rows; r++)
            {
                int q = i0 + r, oy = r0 + q / wo, ox = q % wo;
                iy0[r] = oy * stride - pad;
                ix0[r] = ox * stride - pad;
            }
            var panel = at.AsSpan(i0 * kdim, panelRows * kdim);
            int t = 0;
            for (int c = 0; c < ci; c++)
            {
                var plane = x.Slice(c * h * w, h * w);
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++, t++)
                    {
                        var dst = panel.Slice(t * panelRows, panelRows);
                        for (int r = 0; r < rows; r++)
                        {
                            int iy = iy0[r] + ky, ix = ix0[r] + kx;
                            dst[r] = (uint)iy < (uint)h && (uint)ix < (uint)w ? plane[iy * w + ix] : 0f;
                        }
                        dst[rows..].Clear();
                    }
            }
        }
    }

    /// <summary>The reference: the three slices, then Attention.</summary>
    public Tensor AttentionQkv(Tensor qkv, int heads, bool causal)
    {
        var (_, _, width) = ShapeRules.AttentionQkv(qkv, heads);
        using var q = Slice(qkv, 2, 0, width);
        using var k = Slice(qkv, 2, width, width);
        using var v = Slice(qkv, 2, 2 * width, width);
        return Attention(q, k, v, heads, causal);
    }

    public Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, bool causal)
    {
        var y = New(ShapeRules.Attention(q, k, v, heads));
        int b = q.Dim(0), nq = q.Dim(1), width = q.Dim(2), nk = k.Dim(1);
        int d = width / heads;
        float scale = 1f / MathF.Sqrt(d);
        var qs = C(q).Data; var ks = C(k).Data; var vs = C(v).Data;
        const int QChunk = 1024;
        var qh = new float[Math.Min(nq, QChunk) * d];
        var kh = new float[nk * d];
        var vt = new float[d * nk];
        var s = new float[Math.Min(nq, QChunk) * nk];
        var o = new float[Math.Min(nq, QChunk) * d];
        for (int bi = 0; bi < b; bi++)
            for (int h = 0; h < heads; h++)
            {
                for (int j = 0; j < nk; j++)
                    for (int t = 0; t < d; t++)
                    {
                        kh[j * d + t] = ks[(bi * nk + j) * width + h * d + t];
                        vt[t * nk + j] = vs[(bi * nk + j) * width + h * d + t];
                    }
                for (int q0 = 0; q0 < nq; q0 += QChunk)
                {
                    int nc = Math.Min(QChunk, nq - q0);
                    for (int i = 0; i < nc; i++)
                        qs.AsSpan((bi * nq + q0 + i) * width + h * d, d).CopyTo(qh.AsSpan(i * d, d));
                    Gemm.NT(qh.AsSpan(0, nc * d), kh, s.AsSpan(0, nc * nk), nc, nk, d);
                    CpuParallel.For(nc, 4L * nk, (i0, i1) => { for (int i = i0; i < i1; i++) SoftmaxRow(s.AsSpan(i * nk, nk), scale, causal ? Math.Min(nk, q0 + i + 1) : nk); });
                    Gemm.NT(s.AsSpan(0, nc * nk), vt, o.AsSpan(0, nc * d), nc, d, nk);
                    for (int i = 0; i < nc; i++)
                        o.AsSpan(i * d, d).CopyTo(y.Data.AsSpan((bi * nq + q0 + i) * width + h * d, d));
                }
            }
        return y;
    }

    /// <summary>softmax(row · scale) over the first <paramref name="valid"/> entries; the rest become 0.</summary>
    private static void SoftmaxRow(Span<float> row, float scale, int valid) => SoftmaxKernel.Row(row, scale, valid);

    public Tensor Softmax(Tensor x)
    {
        ShapeRules.Softmax(x);
        int n = x.Dim(-1), rows = x.Count / Math.Max(1, n);
        var y = New((int[])x.Shape.Clone());
        C(x).Data.CopyTo(y.Data, 0);
        CpuParallel.For(rows, 4L * n, (r0, r1) => { for (int r = r0; r < r1; r++) SoftmaxRow(y.Data.AsSpan(r * n, n), 1f, n); });
        return y;
    }
}
