using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cpu;

public sealed partial class CpuBackend
{
    public Tensor Concat(int axis, params Tensor[] xs)
    {
        var (shape, ax, outer64, inner64) = ShapeRules.Concat(axis, xs);
        axis = ax;
        var y = New(shape);
        int outer = (int)outer64, inner = (int)inner64;
        int rowOut = shape[axis] * inner, off = 0;
        foreach (var x in xs)
        {
            int rowIn = x.Shape[axis] * inner;
            var src = C(x).Data;
            for (int o = 0; o < outer; o++) src.AsSpan(o * rowIn, rowIn).CopyTo(y.Data.AsSpan(o * rowOut + off, rowIn));
            off += rowIn;
        }
        return y;
    }

    public Tensor Slice(Tensor x, int axis, int start, int length)
    {
        var (shape, ax, outer64, inner64) = ShapeRules.Slice(x, axis, start, length);
        axis = ax;
        var y = New(shape);
        int outer = (int)outer64, inner = (int)inner64;
        var src = C(x).Data;
        for (int o = 0; o < outer; o++)
            src.AsSpan((o * x.Shape[axis] + start) * inner, length * inner).CopyTo(y.Data.AsSpan(o * length * inner, length * inner));
        return y;
    }

    public Tensor Permute(Tensor x, params int[] perm)
    {
        int rank = x.Rank;
        var shape = ShapeRules.Permute(x, perm);
        var y = New(shape);
        var inStrides = Strides(x.Shape);
        var st = new int[rank];
        for (int i = 0; i < rank; i++) st[i] = inStrides[perm[i]];
        var src = C(x).Data;
        int inner = shape[rank - 1], innerStride = st[rank - 1], outer = y.Count / Math.Max(1, inner);
        CpuParallel.For(outer, inner, (oStart, oEnd) =>
        {
            for (int o = oStart; o < oEnd; o++)
            {
                int rem = o, off = 0;
                for (int i = rank - 2; i >= 0; i--) { int idx = rem % shape[i]; rem /= shape[i]; off += idx * st[i]; }
                var dst = y.Data.AsSpan(o * inner, inner);
                for (int j = 0; j < inner; j++) dst[j] = src[off + j * innerStride];
            }
        });
        return y;
    }

    public Tensor Upsample2x(Tensor x)
    {
        var y = New(ShapeRules.Upsample2x(x));
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var src = C(x).Data;
        CpuParallel.For(n * c, 4L * h * w, (pStart, pEnd) =>
        {
            for (int p = pStart; p < pEnd; p++)
            {
                for (int i = 0; i < 2 * h; i++)
                {
                    var row = src.AsSpan((p * h + i / 2) * w, w);
                    var dst = y.Data.AsSpan((p * 2 * h + i) * 2 * w, 2 * w);
                    for (int j = 0; j < 2 * w; j++) dst[j] = row[j / 2];
                }
            }
        });
        return y;
    }

    public Tensor FlipRot(Tensor x, bool flipW, int k, bool inverse)
    {
        ShapeRules.FlipRot(x, k, inverse);
        k = ((k % 4) + 4) % 4;
        var t = x;
        if (!inverse)
        {
            if (flipW) t = FlipW(t);
            for (int i = 0; i < k; i++) t = Rot90(t);
        }
        else
        {
            for (int i = 0; i < (4 - k) % 4; i++) t = Rot90(t);
            if (flipW) t = FlipW(t);
        }
        return ReferenceEquals(t, x) ? new CpuTensor(this, (float[])C(x).Data.Clone(), (int[])x.Shape.Clone()) : t;
    }

    private CpuTensor FlipW(Tensor x)
    {
        int planes = x.Dim(0) * x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var y = New((int[])x.Shape.Clone());
        var s = C(x).Data;
        for (int p = 0; p < planes * h; p++)
            for (int j = 0; j < w; j++) y.Data[p * w + j] = s[p * w + (w - 1 - j)];
        return y;
    }

    /// <summary>torch.rot90(x, 1, dims=(2, 3)): out[i, j] = in[j, W - 1 - i], output shape [.., W, H].</summary>
    private CpuTensor Rot90(Tensor x)
    {
        int planes = x.Dim(0) * x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var y = New([x.Dim(0), x.Dim(1), w, h]);
        var s = C(x).Data;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < w; i++)
                for (int j = 0; j < h; j++)
                    y.Data[(p * w + i) * h + j] = s[(p * h + j) * w + (w - 1 - i)];
        return y;
    }

    public Tensor Median8(Tensor[] xs)
    {
        ShapeRules.Median8(xs);
        var y = New((int[])xs[0].Shape.Clone());
        var srcs = xs.Select(C).Select(t => t.Data).ToArray();
        const int Block = 4096;
        Parallel.For(0, (y.Count + Block - 1) / Block, blk =>
        {
            Span<float> v = stackalloc float[8];
            int s = blk * Block, e = Math.Min(y.Count, s + Block);
            for (int i = s; i < e; i++)
            {
                for (int q = 0; q < 8; q++) v[q] = srcs[q][i];
                v.Sort();
                y.Data[i] = v[3];
            }
        });
        return y;
    }
}
