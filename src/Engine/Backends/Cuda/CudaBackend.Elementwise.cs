using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    private const int OpSilu = 0, OpGelu = 1, OpQuickGelu = 2, OpAffine = 3, OpClamp = 4;

    private Tensor Unary(Tensor x, int op, float a = 0, float b = 0)
    {
        var xs = Own(x);
        var y = New((int[])x.Shape.Clone());
        Launch(new LdUnary(x.Count, xs.Ptr, y.Ptr, op, a, b), Stride(x.Count));
        return y;
    }

    public Tensor Silu(Tensor x) => Unary(x, OpSilu);
    public Tensor Gelu(Tensor x) => Unary(x, OpGelu);
    public Tensor QuickGelu(Tensor x) => Unary(x, OpQuickGelu);
    public Tensor Affine(Tensor x, float scale, float shift) => Unary(x, OpAffine, scale, shift);
    public Tensor Clamp(Tensor x, float min, float max) => Unary(x, OpClamp, min, max);

    public Tensor Geglu(Tensor x)
    {
        var xs = Own(x);
        var y = New(ShapeRules.Geglu(x));
        int f = y.Dim(-1);
        long rows = x.Count / Math.Max(1, 2 * f);
        Launch(new LdGeglu(rows, f, xs.Ptr, y.Ptr), new Grid((uint)((f + 2047) / 2048), 256, (uint)Math.Clamp(rows, 1, 65535)));
        return y;
    }

    public Tensor Add(Tensor a, Tensor b) => Binary(a, b, 0);
    public Tensor Sub(Tensor a, Tensor b) => Binary(a, b, 1);
    public Tensor Mul(Tensor a, Tensor b) => Binary(a, b, 2);

    private Tensor Binary(Tensor a, Tensor b, int op)
    {
        var ta = Own(a);
        var tb = Own(b);
        var (outShape, collapsed) = BroadcastPlan.Make(a.Shape, b.Shape);
        var y = New(outShape);
        long n = y.Count;
        if (collapsed.Rank == 1 && collapsed.StrideA[0] == 1 && collapsed.StrideB[0] == 1)
        {
            Launch(new LdBinarySame(n, ta.Ptr, tb.Ptr, y.Ptr, op), Stride(n));
            return y;
        }
        if (n > int.MaxValue) throw new ArgumentException($"broadcast of {Tensors.Shape.Format(a.Shape)} with {Tensors.Shape.Format(b.Shape)}: {n} elements, the kernel indexes fewer than 2^31");
        var s = new BroadcastShape { Rank = collapsed.Rank };
        for (int i = 0; i < collapsed.Rank; i++)
        {
            s.Shape[i] = FastDivmod.For(collapsed.Shape[i]);
            s.StrideA[i] = collapsed.StrideA[i];
            s.StrideB[i] = collapsed.StrideB[i];
        }
        Launch(new LdBinary((int)n, ta.Ptr, tb.Ptr, y.Ptr, op, s), Stride(n));
        return y;
    }
}

/// <summary>
/// Numpy broadcasting of two row-major shapes reduced to the fewest axes: size-1 output axes dropped, and adjacent
/// axes merged when both operands walk them contiguously (or both broadcast them). A broadcast axis has stride 0.
/// </summary>
internal static class BroadcastPlan
{
    internal sealed record Collapsed(int Rank, int[] Shape, long[] StrideA, long[] StrideB);

    public static (int[] OutShape, Collapsed Plan) Make(int[] a, int[] b)
    {
        var so = ShapeRules.Broadcast(a, b);
        int rank = so.Length;
        int[] sa = Pad(a, rank), sb = Pad(b, rank);
        long[] ca = Strides(sa), cb = Strides(sb);
        var shape = new List<int>();
        var stA = new List<long>();
        var stB = new List<long>();
        for (int i = 0; i < rank; i++)
        {
            if (so[i] == 1) continue;
            long ai = sa[i] == 1 ? 0 : ca[i], bi = sb[i] == 1 ? 0 : cb[i];
            int last = shape.Count - 1;
            if (last >= 0 && stA[last] == ai * so[i] && stB[last] == bi * so[i])
            {
                shape[last] *= so[i];
                stA[last] = ai;
                stB[last] = bi;
            }
            else
            {
                shape.Add(so[i]);
                stA.Add(ai);
                stB.Add(bi);
            }
        }
        if (shape.Count == 0) { shape.Add(1); stA.Add(1); stB.Add(1); }
        if (shape.Count > 8) throw new ArgumentException($"broadcast of {Tensors.Shape.Format(a)} with {Tensors.Shape.Format(b)} needs more than 8 axes");
        return (so, new Collapsed(shape.Count, shape.ToArray(), stA.ToArray(), stB.ToArray()));
    }

    private static int[] Pad(int[] s, int rank)
    {
        var r = new int[rank];
        Array.Fill(r, 1);
        s.CopyTo(r, rank - s.Length);
        return r;
    }

    internal static long[] Strides(int[] shape)
    {
        var st = new long[shape.Length];
        long acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { st[i] = acc; acc *= shape[i]; }
        return st;
    }
}
