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
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var y = New([n, c, 2 * h, 2 * w]);
        long planes = (long)n * c;
        Launch(new LdUpsample2x(planes, h, w, Own(x).Ptr, y.Ptr), new Grid((uint)((w + 255) / 256), 256, (uint)Math.Clamp(h, 1, 65535), (uint)Math.Clamp(planes, 1, 65535)));
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
