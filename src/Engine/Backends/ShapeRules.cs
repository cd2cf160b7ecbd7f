using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends;

/// <summary>
/// The shape arithmetic of the layout ops, shared by every backend so they agree on what is legal: the output
/// shape of a concat and its [outer, axis, inner] split, and reshape with one inferred (-1) dimension.
/// </summary>
public static class ShapeRules
{
    /// <summary>Concat's output shape, with the normalised axis and the sizes before (outer) and after (inner) it.</summary>
    public static (int[] Shape, int Axis, long Outer, long Inner) Concat(int axis, Tensor[] xs)
    {
        if (xs.Length == 0) throw new ArgumentException("Concat of no tensors");
        int rank = xs[0].Rank;
        if (axis < 0) axis += rank;
        var shape = (int[])xs[0].Shape.Clone();
        shape[axis] = 0;
        foreach (var x in xs)
        {
            for (int i = 0; i < rank; i++)
                if (x.Rank != rank || (i != axis && x.Shape[i] != xs[0].Shape[i]))
                    throw new ArgumentException($"Concat along {axis}: {Shape.Format(x.Shape)} vs {Shape.Format(xs[0].Shape)}");
            shape[axis] += x.Shape[axis];
        }
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < rank; i++) inner *= shape[i];
        return (shape, axis, outer, inner);
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

    /// <summary>The 8 passes of the decoder's augmentation: NCHW, odd passes (a quarter turn) with H and W swapped.</summary>
    public static void UnaugmentMedian8(Tensor[] passes)
    {
        if (passes.Length != 8) throw new ArgumentException($"UnaugmentMedian8 takes exactly 8 tensors, not {passes.Length}");
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
