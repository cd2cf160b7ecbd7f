using System.Runtime.CompilerServices;
using LayerDiffusion.Native.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace LayerDiffusion.Native.Backends.Cpu;

public sealed partial class CpuBackend
{
    private CpuTensor Map(Tensor x, Func<float, float> f)
    {
        var y = New((int[])x.Shape.Clone());
        var xs = C(x).Data;
        CpuParallel.For(xs.Length, 8, (s, e) =>
        {
            for (int i = s; i < e; i++) y.Data[i] = f(xs[i]);
        });
        return y;
    }

    public Tensor Silu(Tensor x)
    {
        var y = New((int[])x.Shape.Clone());
        var xs = C(x).Data;
        CpuParallel.For(xs.Length, 8, (s, e) =>
        {
            var d = y.Data.AsSpan(s, e - s);
            xs.AsSpan(s, e - s).CopyTo(d);
            SiluInPlace(d);
        });
        return y;
    }

    /// <summary>v / (1 + exp(−v)) in place, one vectorised pass (<see cref="ScaleShiftKernel"/>).</summary>
    internal static void SiluInPlace(Span<float> d) => ScaleShiftKernel.Apply(d, 1f, 0f, d, affine: false, silu: true);

    public Tensor Gelu(Tensor x)
    {
        var y = New((int[])x.Shape.Clone());
        var xs = C(x).Data;
        CpuParallel.For(xs.Length, 16, (s, e) => GeluSpan(xs.AsSpan(s, e - s), y.Data.AsSpan(s, e - s)));
        return y;
    }

    // Hot loops are compiled fully optimised at once: a short-lived process (the test suite, one generation)
    // would otherwise spend much of its time in unoptimised tier-0 code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GeluSpan(ReadOnlySpan<float> x, Span<float> y) => GeluKernel.Apply(x, default, y);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GegluRow(ReadOnlySpan<float> value, ReadOnlySpan<float> gate, Span<float> y) => GeluKernel.Apply(gate, value, y);
    public Tensor QuickGelu(Tensor x) => Map(x, v => v / (1f + MathF.Exp(-1.702f * v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float GeluExact(float v) => (float)(0.5 * v * (1.0 + Erf.Fast(v * InvSqrt2)));

    private const double InvSqrt2 = 0.70710678118654752440;

    public Tensor Geglu(Tensor x)
    {
        var y = New(ShapeRules.Geglu(x));
        int f = y.Dim(-1), f2 = 2 * f, rows = x.Count / Math.Max(1, f2);
        var xs = C(x).Data;
        CpuParallel.For(rows, 8L * f, (rStart, rEnd) =>
        {
            for (int r = rStart; r < rEnd; r++)
                GegluRow(xs.AsSpan(r * f2, f), xs.AsSpan(r * f2 + f, f), y.Data.AsSpan(r * f, f));
        });
        return y;
    }

    public Tensor Add(Tensor a, Tensor b) => Broadcast(a, b, 0);
    public Tensor Sub(Tensor a, Tensor b) => Broadcast(a, b, 1);
    public Tensor Mul(Tensor a, Tensor b) => Broadcast(a, b, 2);

    public Tensor Affine(Tensor x, float scale, float shift)
    {
        var y = New((int[])x.Shape.Clone());
        var xs = C(x).Data;
        for (int i = 0; i < xs.Length; i++) y.Data[i] = xs[i] * scale + shift;
        return y;
    }

    public Tensor Clamp(Tensor x, float min, float max)
    {
        var y = New((int[])x.Shape.Clone());
        TP.Clamp(C(x).Data, min, max, y.Data);
        return y;
    }

    /// <summary>
    /// Numpy broadcasting. The output is walked as [outer, inner] where inner is the longest trailing run in
    /// which each operand is either fully present or a single repeated value, so the inner loop is vectorised.
    /// </summary>
    private CpuTensor Broadcast(Tensor a, Tensor b, int op)
    {
        var so = ShapeRules.Broadcast(a.Shape, b.Shape);
        int rank = so.Length;
        int[] sa = Pad(a.Shape, rank), sb = Pad(b.Shape, rank);
        var y = New(so);
        var xa = C(a).Data; var xb = C(b).Data;
        if (sa.AsSpan().SequenceEqual(sb)) { Apply(op, xa, xb, y.Data); return y; }

        // Inner run: trailing axes where a and b each either match the output or are all ones.
        int inner = 1, split = rank;
        bool aFull = true, bFull = true, aOnes = true, bOnes = true;
        for (int i = rank - 1; i >= 0; i--)
        {
            bool af = aFull && sa[i] == so[i], bf = bFull && sb[i] == so[i];
            bool ao = aOnes && sa[i] == 1, bo = bOnes && sb[i] == 1;
            if (!((af || ao) && (bf || bo))) break;
            aFull = af; bFull = bf; aOnes = ao; bOnes = bo;
            inner *= so[i];
            split = i;
        }
        int outer = y.Count / inner;
        int[] stA = Strides(sa), stB = Strides(sb);
        CpuParallel.For(outer, inner, (oStart, oEnd) =>
        {
            for (int o = oStart; o < oEnd; o++)
            {
                int rem = o, offA = 0, offB = 0;
                for (int i = split - 1; i >= 0; i--)
                {
                    int idx = rem % so[i]; rem /= so[i];
                    if (sa[i] != 1) offA += idx * stA[i];
                    if (sb[i] != 1) offB += idx * stB[i];
                }
                var dst = y.Data.AsSpan(o * inner, inner);
                if (aFull && bFull) Apply(op, xa.AsSpan(offA, inner), xb.AsSpan(offB, inner), dst);
                else if (aFull) ApplyScalarB(op, xa.AsSpan(offA, inner), xb[offB], dst);
                else if (bFull) ApplyScalarA(op, xa[offA], xb.AsSpan(offB, inner), dst);
                else dst.Fill(Scalar(op, xa[offA], xb[offB]));
            }
        });
        return y;
    }

    private static float Scalar(int op, float a, float b) => op switch { 0 => a + b, 1 => a - b, _ => a * b };

    private static void Apply(int op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d)
    {
        switch (op) { case 0: TP.Add(a, b, d); break; case 1: TP.Subtract(a, b, d); break; default: TP.Multiply(a, b, d); break; }
    }

    private static void ApplyScalarB(int op, ReadOnlySpan<float> a, float b, Span<float> d)
    {
        switch (op) { case 0: TP.Add(a, b, d); break; case 1: TP.Subtract(a, b, d); break; default: TP.Multiply(a, b, d); break; }
    }

    private static void ApplyScalarA(int op, float a, ReadOnlySpan<float> b, Span<float> d)
    {
        switch (op) { case 0: TP.Add(b, a, d); break; case 1: TP.Subtract(a, b, d); break; default: TP.Multiply(b, a, d); break; }
    }

    private static int[] Pad(int[] s, int rank)
    {
        var r = new int[rank];
        Array.Fill(r, 1);
        s.CopyTo(r, rank - s.Length);
        return r;
    }

    internal static int[] Strides(int[] shape)
    {
        var st = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { st[i] = acc; acc *= shape[i]; }
        return st;
    }
}
