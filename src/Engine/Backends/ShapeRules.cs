using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends;

/// <summary>
/// The shape arithmetic of the layout ops, shared by every backend so they agree on what is legal: the output
/// shape of a concat and its [outer, axis, inner] split, reshape with one inferred (-1) dimension, and the operands
/// of the fused ops (GroupNormAdd, LinearAdd).
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

    /// <summary>
    /// The output shape [N, O, Ho, Wo] of Conv2d / Conv2dAdd on NCHW input and an [O, I, kh, kw] weight, checking the
    /// weight, bias [O], stride, padding and (when given) the residual, which must have the output's shape.
    /// </summary>
    public static int[] Conv2d(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor? residual = null)
    {
        if (x.Rank != 4 || w.Rank != 4 || w.Dim(1) != x.Dim(1))
            throw new ArgumentException($"Conv2d: input {Shape.Format(x.Shape)} vs weight {Shape.Format(w.Shape)}");
        if (stride < 1 || padding < 0) throw new ArgumentException($"Conv2d: stride {stride}, padding {padding}");
        int ho = (x.Dim(2) + 2 * padding - w.Dim(2)) / stride + 1, wo = (x.Dim(3) + 2 * padding - w.Dim(3)) / stride + 1;
        if (x.Dim(2) + 2 * padding < w.Dim(2) || x.Dim(3) + 2 * padding < w.Dim(3))
            throw new ArgumentException($"Conv2d: {w.Dim(2)}×{w.Dim(3)} kernel does not fit {x.Dim(2)}×{x.Dim(3)} with padding {padding}");
        if (bias is not null && bias.Count != w.Dim(0)) throw new ArgumentException($"Conv2d: bias {Shape.Format(bias.Shape)} for {w.Dim(0)} channels");
        int[] y = [x.Dim(0), w.Dim(0), ho, wo];
        if (residual is not null && !Shape.Equal(residual.Shape, y))
            throw new ArgumentException($"Conv2dAdd: residual {Shape.Format(residual.Shape)} vs output {Shape.Format(y)}");
        return y;
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
        if (!ok) throw new ArgumentException($"GroupNormAdd: add {Shape.Format(add.Shape)} is not one value per (batch, channel) of {Shape.Format(x.Shape)}");
    }

    /// <summary>AttentionQkv's packed operand [B, N, 3·W] (q | k | v): (B, N, W), W split into the heads.</summary>
    public static (int Batch, int Tokens, int Width) AttentionQkv(Tensor qkv, int heads)
    {
        if (qkv.Rank != 3 || qkv.Dim(2) % 3 != 0 || heads <= 0 || qkv.Dim(2) / 3 % heads != 0)
            throw new ArgumentException($"AttentionQkv: {Shape.Format(qkv.Shape)} is not [B, N, 3·W] with W split into {heads} heads");
        return (qkv.Dim(0), qkv.Dim(1), qkv.Dim(2) / 3);
    }

    /// <summary>LinearAdd's residual: exactly the shape of Linear(x, w)'s output.</summary>
    public static int[] LinearAdd(Tensor x, Tensor w, Tensor residual)
    {
        var shape = (int[])x.Shape.Clone();
        shape[^1] = w.Dim(0);
        if (!Shape.Equal(shape, residual.Shape))
            throw new ArgumentException($"LinearAdd: residual {Shape.Format(residual.Shape)} for an output of {Shape.Format(shape)}");
        return shape;
    }
}
