using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>dst[r, c] = src[r, c] for a rows × cols block, strides in elements (concat, slice).</summary>
    private void Copy2d(long rows, long cols, ulong src, long srcStride, ulong dst, long dstStride)
    {
        long n = rows * cols;
        if (n == 0) return;
        Launch(new LdCopy2d(rows, cols, src, srcStride, dst, dstStride), Stride(n));
    }

    public Tensor Concat(int axis, params Tensor[] xs)
    {
        var (shape, ax, outer, inner) = ShapeRules.Concat(axis, xs);
        axis = ax;
        var y = New(shape);
        long rowOut = shape[axis] * inner, off = 0;
        foreach (var x in xs)
        {
            long rowIn = x.Shape[axis] * inner;
            Copy2d(outer, rowIn, Own(x).Ptr, rowIn, y.Ptr + (ulong)(off * ElementSize), rowOut);
            off += rowIn;
        }
        return y;
    }

    public Tensor Slice(Tensor x, int axis, int start, int length)
    {
        if (axis < 0) axis += x.Rank;
        if (start < 0 || length < 0 || start + length > x.Shape[axis]) throw new ArgumentException($"Slice [{start}, {start + length}) of axis {axis} in {Tensors.Shape.Format(x.Shape)}");
        var shape = (int[])x.Shape.Clone();
        shape[axis] = length;
        var y = New(shape);
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < x.Rank; i++) inner *= shape[i];
        Copy2d(outer, length * inner, Own(x).Ptr + (ulong)(start * inner * ElementSize), (long)x.Shape[axis] * inner, y.Ptr, length * inner);
        return y;
    }

    public Tensor Permute(Tensor x, params int[] perm)
    {
        int rank = x.Rank;
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
            throw new ArgumentException($"Permute: [{string.Join(", ", perm)}] is not a permutation of {rank} axes");
        if (rank > 8) throw new ArgumentException("Permute: more than 8 axes");
        var shape = new int[rank];
        for (int i = 0; i < rank; i++) shape[i] = x.Shape[perm[i]];
        var y = New(shape);
        var inStrides = BroadcastPlan.Strides(x.Shape);
        var s = new PermuteShape { Rank = rank };
        for (int i = 0; i < rank; i++) { s.OutShape[i] = shape[i]; s.InStride[i] = inStrides[perm[i]]; }
        Launch(new LdPermute(y.Count, Own(x).Ptr, y.Ptr, s), Stride(y.Count));
        return y;
    }

    public Tensor Upsample2x(Tensor x)
    {
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var y = New([n, c, 2 * h, 2 * w]);
        long planes = (long)n * c;
        Launch(new LdUpsample2x(planes, h, w, Own(x).Ptr, y.Ptr), Stride(y.Count));
        return y;
    }

    public Tensor FlipRot(Tensor x, bool flipW, int k, bool inverse)
    {
        k = ((k % 4) + 4) % 4;
        int h = x.Dim(2), w = x.Dim(3);
        int rots = inverse ? (4 - k) % 4 : k;
        var y = New(rots % 2 == 1 ? [x.Dim(0), x.Dim(1), w, h] : (int[])x.Shape.Clone());
        long planes = (long)x.Dim(0) * x.Dim(1);
        Launch(new LdFliprot(planes, h, w, flipW ? 1 : 0, k, inverse ? 1 : 0, Own(x).Ptr, y.Ptr), Stride(y.Count));
        return y;
    }

    public Tensor Median8(Tensor[] xs)
    {
        if (xs.Length != 8) throw new ArgumentException("Median8 takes exactly 8 tensors");
        var p = new Ptr8();
        for (int i = 0; i < 8; i++)
        {
            if (!Tensors.Shape.Equal(xs[i].Shape, xs[0].Shape)) throw new ArgumentException($"Median8: {Tensors.Shape.Format(xs[i].Shape)} vs {Tensors.Shape.Format(xs[0].Shape)}");
            p.P[i] = Own(xs[i]).Ptr;
        }
        var y = New((int[])xs[0].Shape.Clone());
        Launch(new LdMedian8(y.Count, p, y.Ptr), Stride(y.Count));
        return y;
    }
}
