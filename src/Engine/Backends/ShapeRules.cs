using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends;

/// <summary>
/// What every op accepts and the shape it returns, in one place for every backend: the CPU reference rejects exactly
/// what the GPU rejects, with the same message. Each backend calls its op's rule first and computes afterwards.
/// The fused ops (GroupNormAdd, LinearAdd, Conv2dAdd, AttentionQkv) check their extra operands here too.
/// </summary>
public static class ShapeRules
{
    private static ArgumentException Bad(string op, string why) => new($"{op}: {why}");

    /// <summary>The numpy broadcast of two shapes (trailing axes aligned; each pair equal or one of them 1).</summary>
    public static int[] Broadcast(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var so = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)], db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1) throw new ArgumentException($"cannot broadcast {Shape.Format(a)} with {Shape.Format(b)}");
            so[i] = Math.Max(da, db);
        }
        return so;
    }

    /// <summary>An elementwise op on the last axis split in halves (value, gate): the output has half its width.</summary>
    public static int[] Geglu(Tensor x)
    {
        if (x.Rank < 1 || x.Dim(-1) % 2 != 0) throw Bad("Geglu", $"last axis of {Shape.Format(x.Shape)} is odd");
        var shape = (int[])x.Shape.Clone();
        shape[^1] /= 2;
        return shape;
    }

    /// <summary>y[..., N] = x[..., K] · w[N, K]ᵀ + bias[N].</summary>
    public static int[] Linear(Tensor x, Tensor w, Tensor? bias)
    {
        if (x.Rank < 1 || w.Rank != 2 || w.Dim(1) != x.Dim(-1)) throw Bad("Linear", $"x {Shape.Format(x.Shape)} vs w {Shape.Format(w.Shape)}");
        if (bias is not null && (bias.Rank != 1 || bias.Dim(0) != w.Dim(0))) throw Bad("Linear", $"bias {Shape.Format(bias.Shape)} for {w.Dim(0)} outputs");
        var shape = (int[])x.Shape.Clone();
        shape[^1] = w.Dim(0);
        return shape;
    }

    /// <summary>a[B, M, K] · b[B, K, N] or b[K, N]; rank-2 a has no batch.</summary>
    public static int[] MatMul(Tensor a, Tensor b)
    {
        if (a.Rank is not (2 or 3) || b.Rank is not (2 or 3) || (b.Rank == 3 && a.Rank != 3) || b.Dim(-2) != a.Dim(-1) || (b.Rank == 3 && b.Dim(0) != a.Dim(0)))
            throw Bad("MatMul", $"{Shape.Format(a.Shape)} x {Shape.Format(b.Shape)}");
        return a.Rank == 3 ? [a.Dim(0), a.Dim(1), b.Dim(-1)] : [a.Dim(0), b.Dim(-1)];
    }

    /// <summary>
    /// NCHW x, [O, C, kh, kw] weight, bias [O]; the kernel must fit the padded input. Conv2dAdd's residual, when given,
    /// has the output's shape.
    /// </summary>
    public static int[] Conv2d(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor? residual = null)
    {
        if (x.Rank != 4 || w.Rank != 4 || w.Dim(1) != x.Dim(1)) throw Bad("Conv2d", $"input {Shape.Format(x.Shape)} vs weight {Shape.Format(w.Shape)}");
        if (stride < 1 || padding < 0) throw Bad("Conv2d", $"stride {stride}, padding {padding}");
        int ho = (x.Dim(2) + 2 * padding - w.Dim(2)) / stride + 1, wo = (x.Dim(3) + 2 * padding - w.Dim(3)) / stride + 1;
        if (ho <= 0 || wo <= 0 || x.Dim(2) + 2 * padding < w.Dim(2) || x.Dim(3) + 2 * padding < w.Dim(3))
            throw Bad("Conv2d", $"{w.Dim(2)}×{w.Dim(3)} kernel does not fit {x.Dim(2)}×{x.Dim(3)} with padding {padding}");
        if (bias is not null && (bias.Rank != 1 || bias.Dim(0) != w.Dim(0))) throw Bad("Conv2d", $"bias {Shape.Format(bias.Shape)} for {w.Dim(0)} channels");
        int[] y = [x.Dim(0), w.Dim(0), ho, wo];
        if (residual is not null && !Shape.Equal(residual.Shape, y)) throw Bad("Conv2dAdd", $"residual {Shape.Format(residual.Shape)} vs output {Shape.Format(y)}");
        return y;
    }

    /// <summary>[N, C, ...] in groups of C / groups channels, one gamma and beta per channel.</summary>
    public static void GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta)
    {
        if (x.Rank < 2) throw Bad("GroupNorm", $"{Shape.Format(x.Shape)} has no channel axis");
        int c = x.Dim(1);
        if (groups <= 0 || c % groups != 0) throw Bad("GroupNorm", $"{c} channels not divisible by {groups} groups");
        if (gamma.Count != c || beta.Count != c) throw Bad("GroupNorm", $"gamma/beta of {gamma.Count}/{beta.Count} for {c} channels");
    }

    /// <summary>Normalised over the last axis, one gamma and beta per element of it.</summary>
    public static void LayerNorm(Tensor x, Tensor gamma, Tensor beta)
    {
        if (x.Rank < 1) throw Bad("LayerNorm", "a scalar has no axis to normalise");
        int n = x.Dim(-1);
        if (gamma.Count != n || beta.Count != n) throw Bad("LayerNorm", $"gamma/beta of {gamma.Count}/{beta.Count} for width {n}");
    }

    /// <summary>Over the last axis.</summary>
    public static void Softmax(Tensor x)
    {
        if (x.Rank < 1) throw Bad("Softmax", "a scalar has no axis");
    }

    /// <summary>q [B, N, H·D], k and v [B, M, H·D], heads H ≥ 1 dividing the width; the output is q's shape.</summary>
    public static int[] Attention(Tensor q, Tensor k, Tensor v, int heads)
    {
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3 || heads <= 0 || q.Dim(2) % heads != 0 || !Shape.Equal(k.Shape, v.Shape)
            || k.Dim(0) != q.Dim(0) || k.Dim(2) != q.Dim(2))
            throw Bad("Attention", $"q {Shape.Format(q.Shape)} k {Shape.Format(k.Shape)} v {Shape.Format(v.Shape)} heads {heads}");
        return (int[])q.Shape.Clone();
    }

    /// <summary>Concat's output shape, with the normalised axis and the sizes before (outer) and after (inner) it.</summary>
    public static (int[] Shape, int Axis, long Outer, long Inner) Concat(int axis, Tensor[] xs)
    {
        if (xs.Length == 0) throw new ArgumentException("Concat of no tensors");
        int rank = xs[0].Rank;
        axis = Axis("Concat", axis, rank);
        var shape = (int[])xs[0].Shape.Clone();
        shape[axis] = 0;
        foreach (var x in xs)
        {
            for (int i = 0; i < rank; i++)
                if (x.Rank != rank || (i != axis && x.Shape[i] != xs[0].Shape[i]))
                    throw new ArgumentException($"Concat along {axis}: {Shape.Format(x.Shape)} vs {Shape.Format(xs[0].Shape)}");
            shape[axis] += x.Shape[axis];
        }
        var (outer, inner) = Split(shape, axis);
        return (shape, axis, outer, inner);
    }

    /// <summary>Slice's output shape, the normalised axis and the sizes before (outer) and after (inner) it.</summary>
    public static (int[] Shape, int Axis, long Outer, long Inner) Slice(Tensor x, int axis, int start, int length)
    {
        axis = Axis("Slice", axis, x.Rank);
        if (start < 0 || length < 0 || start + length > x.Shape[axis]) throw new ArgumentException($"Slice [{start}, {start + length}) of axis {axis} in {Shape.Format(x.Shape)}");
        var shape = (int[])x.Shape.Clone();
        shape[axis] = length;
        var (outer, inner) = Split(shape, axis);
        return (shape, axis, outer, inner);
    }

    /// <summary>The permuted shape; <paramref name="perm"/> must name every axis once (at most 8).</summary>
    public static int[] Permute(Tensor x, int[] perm)
    {
        int rank = x.Rank;
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
            throw Bad("Permute", $"[{string.Join(", ", perm)}] is not a permutation of {rank} axes");
        if (rank > 8) throw Bad("Permute", "more than 8 axes");
        return perm.Select(p => x.Shape[p]).ToArray();
    }

    /// <summary>NCHW → [N, C, 2H, 2W].</summary>
    public static int[] Upsample2x(Tensor x)
    {
        if (x.Rank != 4) throw Bad("Upsample2x", $"{Shape.Format(x.Shape)} is not NCHW");
        return [x.Dim(0), x.Dim(1), 2 * x.Dim(2), 2 * x.Dim(3)];
    }

    /// <summary>NCHW; an odd number of quarter turns swaps H and W.</summary>
    public static int[] FlipRot(Tensor x, int k, bool inverse)
    {
        if (x.Rank != 4) throw Bad("FlipRot", $"{Shape.Format(x.Shape)} is not NCHW");
        k = ((k % 4) + 4) % 4;
        int rots = inverse ? (4 - k) % 4 : k;
        return rots % 2 == 1 ? [x.Dim(0), x.Dim(1), x.Dim(3), x.Dim(2)] : (int[])x.Shape.Clone();
    }

    /// <summary>Exactly 8 tensors of one shape.</summary>
    public static void Median8(Tensor[] xs)
    {
        if (xs.Length != 8) throw Bad("Median8", $"takes exactly 8 tensors, not {xs.Length}");
        foreach (var x in xs)
            if (!Shape.Equal(x.Shape, xs[0].Shape)) throw Bad("Median8", $"{Shape.Format(x.Shape)} vs {Shape.Format(xs[0].Shape)}");
    }

    private static int Axis(string op, int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Bad(op, $"axis {axis} does not exist in rank {rank}");
        return a;
    }

    private static (long Outer, long Inner) Split(int[] shape, int axis)
    {
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, inner);
    }

    /// <summary>The target shape of a reshape, with a -1 dimension inferred; throws when the counts differ.</summary>
    public static int[] Reshape(Tensor x, int[] shape)
    {
        var shp = (int[])shape.Clone();
        int infer = Array.IndexOf(shp, -1);
        if (infer >= 0)
        {
            long rest = 1;
            for (int i = 0; i < shp.Length; i++) if (i != infer) rest *= shp[i];
            shp[infer] = rest == 0 ? 0 : (int)(x.Count / rest);
        }
        if (Shape.Count(shp) != x.Count) throw new ArgumentException($"cannot reshape {Shape.Format(x.Shape)} to {Shape.Format(shape)}");
        return shp;
    }

    /// <summary>GroupNormAdd's add: one value per (batch, channel) of x [N, C, ...], shaped [N, C] or [N, C, 1, ...].</summary>
    public static void GroupNormAdd(Tensor x, Tensor add)
    {
        bool ok = x.Rank >= 2 && add.Rank >= 2 && add.Dim(0) == x.Dim(0) && add.Dim(1) == x.Dim(1) && add.Count == (long)x.Dim(0) * x.Dim(1);
        if (!ok) throw Bad("GroupNormAdd", $"add {Shape.Format(add.Shape)} is not one value per (batch, channel) of {Shape.Format(x.Shape)}");
    }

    /// <summary>AttentionQkv's packed operand [B, N, 3·W] (q | k | v): (B, N, W), W split into the heads.</summary>
    public static (int Batch, int Tokens, int Width) AttentionQkv(Tensor qkv, int heads)
    {
        if (qkv.Rank != 3 || qkv.Dim(2) % 3 != 0 || heads <= 0 || qkv.Dim(2) / 3 % heads != 0)
            throw Bad("AttentionQkv", $"{Shape.Format(qkv.Shape)} is not [B, N, 3·W] with W split into {heads} heads");
        return (qkv.Dim(0), qkv.Dim(1), qkv.Dim(2) / 3);
    }

    /// <summary>Linear's rules, and a residual of exactly the output's shape.</summary>
    public static int[] LinearAdd(Tensor x, Tensor w, Tensor? bias, Tensor residual)
    {
        var shape = Linear(x, w, bias);
        if (!Shape.Equal(shape, residual.Shape)) throw Bad("LinearAdd", $"residual {Shape.Format(residual.Shape)} for an output of {Shape.Format(shape)}");
        return shape;
    }

    /// <summary>The 8 passes of the decoder's augmentation: NCHW, odd passes (a quarter turn) with H and W swapped.</summary>
    public static void UnaugmentMedian8(Tensor[] passes)
    {
        if (passes.Length != 8) throw Bad("UnaugmentMedian8", $"takes exactly 8 tensors, not {passes.Length}");
        var s0 = passes[0].Shape;
        if (s0.Length != 4) throw new ArgumentException($"UnaugmentMedian8: {Shape.Format(s0)} is not NCHW");
        for (int i = 0; i < 8; i++)
        {
            var s = passes[i].Shape;
            bool swapped = (i & 1) == 1;
            if (s.Length != 4 || s[0] != s0[0] || s[1] != s0[1] || s[2] != (swapped ? s0[3] : s0[2]) || s[3] != (swapped ? s0[2] : s0[3]))
                throw new ArgumentException($"UnaugmentMedian8: pass {i} has shape {Shape.Format(s)}, expected {(swapped ? "H and W swapped from " : "")}{Shape.Format(s0)}");
        }
    }

    /// <summary>
    /// The merged weight's shape of a LoRA merge: W [out, in, ...], up [out, rank], down [rank, in'·kernel] with
    /// in' ≥ in (a widened input grows W with zero channels).
    /// </summary>
    public static int[] MergeLora(Tensor weight, Tensor up, Tensor down)
    {
        if (weight.Rank < 2 || up.Rank != 2 || up.Dim(0) != weight.Dim(0) || down.Rank < 2 || down.Dim(0) != up.Dim(1))
            throw new ArgumentException($"MergeLora: weight {Shape.Format(weight.Shape)}, up {Shape.Format(up.Shape)}, down {Shape.Format(down.Shape)}");
        long inner = weight.Count / ((long)weight.Dim(0) * weight.Dim(1));
        long downCols = down.Count / down.Dim(0);
        if (downCols % inner != 0) throw new ArgumentException($"MergeLora: down {Shape.Format(down.Shape)} does not match the kernel size of {Shape.Format(weight.Shape)}");
        int inputs = checked((int)(downCols / inner));
        if (inputs < weight.Dim(1)) throw new ArgumentException($"MergeLora: down has {inputs} input channels, fewer than the weight's {weight.Dim(1)}");
        var shape = (int[])weight.Shape.Clone();
        shape[1] = inputs;
        return shape;
    }

    /// <summary>A diff merge: ΔW of W's shape (any rank), or W [out, in, ...] widened along its input channels.</summary>
    public static void MergeDiff(Tensor weight, Tensor delta)
    {
        if (Shape.Equal(weight.Shape, delta.Shape)) return;
        if (weight.Rank < 2 || delta.Rank != weight.Rank || delta.Dim(0) != weight.Dim(0) || delta.Dim(1) < weight.Dim(1)
            || !delta.Shape.AsSpan(2).SequenceEqual(weight.Shape.AsSpan(2)))
            throw new ArgumentException($"MergeDiff: weight {Shape.Format(weight.Shape)}, delta {Shape.Format(delta.Shape)}");
    }
}
