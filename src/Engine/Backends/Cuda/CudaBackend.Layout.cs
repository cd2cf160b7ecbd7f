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
        long slots = (cols * ElementSize + 15) / 16;
        Launch(new LdCopy2d(rows, cols, src, srcStride, dst, dstStride), new Grid((uint)((slots + 255) / 256), 256, (uint)Math.Clamp(rows, 1, 65535)));
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

    public Tensor Permute(Tensor x, params int[] perm)
    {
        int rank = x.Rank;
        var shape = ShapeRules.Permute(x, perm);
        var y = New(shape);
        if (y.Count == 0) return y;
        var (cs, cp) = PermutePlan.Collapse(x.Shape, perm);
        // A batched transpose ([B, R, C] -> [B, C, R], B = 1 for a plain one): the tiled kernel.
        bool transpose = (cp.Length == 2 && cp[0] == 1) || (cp.Length == 3 && cp[0] == 0 && cp[1] == 2);
        if (transpose)
        {
            int batch = cp.Length == 3 ? cs[0] : 1, rows = cs[^2], cols = cs[^1];
            if (batch <= 65535 && (rows + 31) / 32 <= 65535)
            {
                Launch(new LdTranspose(rows, cols, Own(x).Ptr, y.Ptr), new Grid((uint)((cols + 31) / 32), 256, (uint)((rows + 31) / 32), (uint)batch));
                return y;
            }
        }
        if (y.Count > int.MaxValue) throw new ArgumentException($"Permute of {Tensors.Shape.Format(x.Shape)}: {y.Count} elements, the kernel indexes fewer than 2^31");
        var inStrides = BroadcastPlan.Strides(cs);
        var s = new PermuteShape { Rank = cp.Length };
        for (int i = 0; i < cp.Length; i++) { s.OutShape[i] = FastDivmod.For(cs[cp[i]]); s.InStride[i] = inStrides[cp[i]]; }
        Launch(new LdPermute((int)y.Count, Own(x).Ptr, y.Ptr, s), Stride(y.Count));
        return y;
    }

    public Tensor Upsample2x(Tensor x)
    {
        var y = New(ShapeRules.Upsample2x(x));
        int h = x.Dim(2), w = x.Dim(3);
        long planes = (long)x.Dim(0) * x.Dim(1);
        Launch(new LdUpsample2x(planes, h, w, Own(x).Ptr, y.Ptr), new Grid((uint)((w + 255) / 256), 256, (uint)Math.Clamp(h, 1, 65535), (uint)Math.Clamp(planes, 1, 65535)));
        return y;
    }

    public Tensor FlipRot(Tensor x, bool flipW, int k, bool inverse)
    {
        var y = New(ShapeRules.FlipRot(x, k, inverse));
        k = ((k % 4) + 4) % 4;
        int h = x.Dim(2), w = x.Dim(3);
        long planes = (long)x.Dim(0) * x.Dim(1);
        Launch(new LdFliprot(planes, h, w, flipW ? 1 : 0, k, inverse ? 1 : 0, Own(x).Ptr, y.Ptr), Stride(y.Count));
        return y;
    }

    public Tensor Median8(Tensor[] xs)
    {
        ShapeRules.Median8(xs);
        var p = new Ptr8();
        for (int i = 0; i < 8; i++) p.P[i] = Own(xs[i]).Ptr;
        var y = New((int[])xs[0].Shape.Clone());
        Launch(new LdMedian8(y.Count, p, y.Ptr), Stride(y.Count));
        return y;
    }
}

/// <summary>
/// A permutation reduced to the fewest axes: size-1 axes dropped, and input axes that stay adjacent and in order in
/// the output merged (NCHW -> NHWC becomes [N, C, HW] -> [N, HW, C], a batched transpose).
/// </summary>
internal static class PermutePlan
{
    public static (int[] Shape, int[] Perm) Collapse(int[] shape, int[] perm)
    {
        // Output axes (in output order) as input axes, without size-1 ones, then runs of consecutive input axes.
        var kept = perm.Where(a => shape[a] != 1).ToList();
        var runs = new List<List<int>>();
        foreach (int a in kept)
        {
            if (runs.Count > 0 && runs[^1][^1] + 1 == a) runs[^1].Add(a);
            else runs.Add([a]);
        }
        if (runs.Count == 0) return ([1], [0]);
        // Each run becomes one axis; number the runs by input order.
        var byInput = runs.OrderBy(r => r[0]).ToList();
        var merged = byInput.Select(r => r.Aggregate(1, (acc, a) => acc * shape[a])).ToArray();
        var newPerm = runs.Select(r => byInput.IndexOf(r)).ToArray();
        return (merged, newPerm);
    }
}
