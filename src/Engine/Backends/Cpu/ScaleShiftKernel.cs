using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// GroupNorm's per-channel epilogue in one pass: y = x·a + b (a multiply, then an add: no fused multiply-add), then
/// with SiLU y / (1 + exp(−y)), where it used to take six passes (TensorPrimitives' Multiply, Add, Negate, Exp, Add,
/// Divide). Every element, the tail included, goes through the same vector operations (the tail through a padded
/// vector), so a result does not depend on its position or the span's length, and the Vector512 and Vector256 paths
/// give the same bits (tests compare them).
/// </summary>
internal static class ScaleShiftKernel
{
    /// <summary>y = x·a + b (with <paramref name="affine"/>, else y = x), then SiLU when asked; x and y may be the same span.</summary>
    public static void Apply(ReadOnlySpan<float> x, float a, float b, Span<float> y, bool affine, bool silu)
    {
        if (Vector512.IsHardwareAccelerated) Apply512(x, a, b, y, affine, silu);
        else if (Vector256.IsHardwareAccelerated) Apply256(x, a, b, y, affine, silu);
        else ApplyScalar(x, a, b, y, affine, silu);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Apply512(ReadOnlySpan<float> x, float a, float b, Span<float> y, bool affine, bool silu)
    {
        var va = Vector512.Create(a); var vb = Vector512.Create(b);
        int i = 0, n = x.Length;
        for (; i + 16 <= n; i += 16)
        {
            var v = Vector512.Create(x.Slice(i, 16));
            if (affine) v = v * va + vb;
            if (silu) v /= Vector512<float>.One + Vector512.Exp(-v);
            v.CopyTo(y.Slice(i, 16));
        }
        if (i == n) return;
        Span<float> tail = stackalloc float[16];
        tail.Clear();
        x[i..].CopyTo(tail);
        var t = Vector512.Create(tail);
        if (affine) t = t * va + vb;
        if (silu) t /= Vector512<float>.One + Vector512.Exp(-t);
        t.CopyTo(tail);
        tail[..(n - i)].CopyTo(y[i..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Apply256(ReadOnlySpan<float> x, float a, float b, Span<float> y, bool affine, bool silu)
    {
        var va = Vector256.Create(a); var vb = Vector256.Create(b);
        int i = 0, n = x.Length;
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.Create(x.Slice(i, 8));
            if (affine) v = v * va + vb;
            if (silu) v /= Vector256<float>.One + Vector256.Exp(-v);
            v.CopyTo(y.Slice(i, 8));
        }
        if (i == n) return;
        Span<float> tail = stackalloc float[8];
        tail.Clear();
        x[i..].CopyTo(tail);
        var t = Vector256.Create(tail);
        if (affine) t = t * va + vb;
        if (silu) t /= Vector256<float>.One + Vector256.Exp(-t);
        t.CopyTo(tail);
        tail[..(n - i)].CopyTo(y[i..]);
    }

    /// <summary>Machines without 256-bit vectors: the scalar formulas (exp from MathF).</summary>
    private static void ApplyScalar(ReadOnlySpan<float> x, float a, float b, Span<float> y, bool affine, bool silu)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            if (affine) v = v * a + b;
            if (silu) v /= 1f + MathF.Exp(-v);
            y[i] = v;
        }
    }
}
