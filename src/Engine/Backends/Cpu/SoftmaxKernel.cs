using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// One row of softmax(row · scale), vectorised: the maximum, exp(v·scale − max) evaluated in double and rounded to
/// float (the tail through a padded vector, so an element's result does not depend on its position or the vector
/// width), the sum in double, then a multiply by its float reciprocal. The scalar path it replaced called MathF.Exp
/// per element (most of attention's time at the small shapes); a double exp rounded once agrees with it but for rare
/// double roundings, and the sum in double is the same up to double rounding.
/// </summary>
internal static class SoftmaxKernel
{
    /// <summary>softmax(row · scale) over the first <paramref name="valid"/> entries; the rest become 0.</summary>
    public static void Row(Span<float> row, float scale, int valid)
    {
        if (Vector512.IsHardwareAccelerated) Row512(row, scale, valid);
        else if (Vector256.IsHardwareAccelerated) Row256(row, scale, valid);
        else RowScalar(row, scale, valid);
        row[valid..].Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Row512(Span<float> row, float scale, int valid)
    {
        var vs = Vector512.Create(scale);
        int j = 0;
        var vmax = Vector512.Create(float.NegativeInfinity);
        for (; j + 16 <= valid; j += 16) vmax = Vector512.Max(vmax, Vector512.Create(row.Slice(j, 16)) * vs);
        float max = vmax.ToScalar();
        for (int l = 1; l < 16; l++) max = MathF.Max(max, vmax.GetElement(l));
        for (int t = j; t < valid; t++) max = MathF.Max(max, row[t] * scale);

        var vm = Vector512.Create(max);
        var sum0 = Vector512<double>.Zero; var sum1 = Vector512<double>.Zero;
        for (j = 0; j + 16 <= valid; j += 16)
        {
            var e = Exp(Vector512.Create(row.Slice(j, 16)) * vs - vm);
            e.CopyTo(row.Slice(j, 16));
            sum0 += Vector512.WidenLower(e); sum1 += Vector512.WidenUpper(e);
        }
        double sum = Vector512.Sum(sum0 + sum1);
        if (j < valid)
        {
            Span<float> tail = stackalloc float[16];
            tail.Clear();
            row[j..valid].CopyTo(tail);
            Exp(Vector512.Create(tail) * vs - vm).CopyTo(tail);
            for (int t = 0; t < valid - j; t++) { row[j + t] = tail[t]; sum += tail[t]; }
        }
        Scale(row[..valid], (float)(1.0 / sum));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Row256(Span<float> row, float scale, int valid)
    {
        var vs = Vector256.Create(scale);
        int j = 0;
        var vmax = Vector256.Create(float.NegativeInfinity);
        for (; j + 8 <= valid; j += 8) vmax = Vector256.Max(vmax, Vector256.Create(row.Slice(j, 8)) * vs);
        float max = vmax.ToScalar();
        for (int l = 1; l < 8; l++) max = MathF.Max(max, vmax.GetElement(l));
        for (int t = j; t < valid; t++) max = MathF.Max(max, row[t] * scale);

        var vm = Vector256.Create(max);
        var sum0 = Vector256<double>.Zero; var sum1 = Vector256<double>.Zero;
        for (j = 0; j + 8 <= valid; j += 8)
        {
            var e = Exp(Vector256.Create(row.Slice(j, 8)) * vs - vm);
            e.CopyTo(row.Slice(j, 8));
            sum0 += Vector256.WidenLower(e); sum1 += Vector256.WidenUpper(e);
        }
        double sum = Vector256.Sum(sum0 + sum1);
        if (j < valid)
        {
            Span<float> tail = stackalloc float[8];
            tail.Clear();
            row[j..valid].CopyTo(tail);
            Exp(Vector256.Create(tail) * vs - vm).CopyTo(tail);
            for (int t = 0; t < valid - j; t++) { row[j + t] = tail[t]; sum += tail[t]; }
        }
        Scale(row[..valid], (float)(1.0 / sum));
    }

    /// <summary>
    /// exp in double, rounded once to float: the float result of the correctly rounded exp in all but rare
    /// double-rounding cases, as the C library's expf behind MathF.Exp gives it (the float vector exp is ~1 ulp off,
    /// enough to move a golden 8-bit output by one level).
    /// </summary>
    private static Vector512<float> Exp(Vector512<float> v) =>
        Vector512.Narrow(Vector512.Exp(Vector512.WidenLower(v)), Vector512.Exp(Vector512.WidenUpper(v)));

    private static Vector256<float> Exp(Vector256<float> v) =>
        Vector256.Narrow(Vector256.Exp(Vector256.WidenLower(v)), Vector256.Exp(Vector256.WidenUpper(v)));

    private static void RowScalar(Span<float> row, float scale, int valid)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < valid; j++) max = MathF.Max(max, row[j] * scale);
        double sum = 0;
        for (int j = 0; j < valid; j++) { float e = MathF.Exp(row[j] * scale - max); row[j] = e; sum += e; }
        Scale(row[..valid], (float)(1.0 / sum));
    }

    private static void Scale(Span<float> row, float inv) => System.Numerics.Tensors.TensorPrimitives.Multiply(row, inv, row);
}
