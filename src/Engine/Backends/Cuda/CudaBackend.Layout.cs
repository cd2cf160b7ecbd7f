using System.Runtime.InteropServices;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>dst[r, c] = src[r, c] for a rows × cols block, strides in elements (concat, slice).</summary>
    private void Copy2d(long rows, long cols, ulong src, long srcStride, ulong dst, long dstStride)
    {
        long n = rows * cols;
        if (n == 0) return;
        void** args = stackalloc void*[] { &rows, &cols, &src, &srcStride, &dst, &dstStride };
        Launch("ld_copy2d_" + SizeSuffix, Blocks(n), 256, args);
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
        var (shape, ax, outer, inner) = ShapeRules.Slice(x, axis, start, length);
        axis = ax;
        var y = New(shape);
        Copy2d(outer, length * inner, Own(x).Ptr + (ulong)(start * inner * ElementSize), (long)x.Shape[axis] * inner, y.Ptr, length * inner);
        return y;
    }

    /// <summary>Matches kernels/layout.cu's PermuteShape.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PermuteShape
    {
        public int Rank;
        public fixed int OutShape[8];
        public fixed long InStride[8];
    }

    public Tensor Permute(Tensor x, params int[] perm)
    {
        int rank = x.Rank;
        var shape = ShapeRules.Permute(x, perm);
        var y = New(shape);
        var inStrides = BroadcastPlan.Strides(x.Shape);
        var s = new PermuteShape { Rank = rank };
        for (int i = 0; i < rank; i++) { s.OutShape[i] = shape[i]; s.InStride[i] = inStrides[perm[i]]; }
        long n = y.Count;
        ulong px = Own(x).Ptr, py = y.Ptr;
        void** args = stackalloc void*[] { &n, &px, &py, &s };
        Launch("ld_permute_" + SizeSuffix, Blocks(n), 256, args);
        return y;
    }

    public Tensor Upsample2x(Tensor x)
    {
        var y = New(ShapeRules.Upsample2x(x));
        int h = x.Dim(2), w = x.Dim(3);
        long planes = (long)x.Dim(0) * x.Dim(1);
        ulong px = Own(x).Ptr, py = y.Ptr;
        void** args = stackalloc void*[] { &planes, &h, &w, &px, &py };
        Launch("ld_upsample2x_" + SizeSuffix, Blocks(y.Count), 256, args);
        return y;
    }

    public Tensor FlipRot(Tensor x, bool flipW, int k, bool inverse)
    {
        var y = New(ShapeRules.FlipRot(x, k, inverse));
        k = ((k % 4) + 4) % 4;
        int h = x.Dim(2), w = x.Dim(3);
        long planes = (long)x.Dim(0) * x.Dim(1);
        int flip = flipW ? 1 : 0, inv = inverse ? 1 : 0;
        ulong px = Own(x).Ptr, py = y.Ptr;
        void** args = stackalloc void*[] { &planes, &h, &w, &flip, &k, &inv, &px, &py };
        Launch("ld_fliprot_" + SizeSuffix, Blocks(y.Count), 256, args);
        return y;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Ptr8
    {
        public fixed ulong P[8];
    }

    public Tensor Median8(Tensor[] xs)
    {
        ShapeRules.Median8(xs);
        var p = new Ptr8();
        for (int i = 0; i < 8; i++) p.P[i] = Own(xs[i]).Ptr;
        var y = New((int[])xs[0].Shape.Clone());
        long n = y.Count;
        ulong py = y.Ptr;
        void** args = stackalloc void*[] { &n, &p, &py };
        Launch("ld_median8_" + _sfx, Blocks(n), 256, args);
        return y;
    }
}
