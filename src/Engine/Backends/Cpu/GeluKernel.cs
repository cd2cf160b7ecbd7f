using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// Exact GELU, 0.5·v·(1 + erf(v/√2)), four values at a time in double precision: the same operations in the same
/// order as <see cref="CpuBackend.GeluExact"/> and <see cref="Erf.Fast"/> (separate multiplies and adds, no fused
/// multiply-add, the table entries gathered), so every result is bit-identical to the scalar path, which still
/// handles the tails and machines without AVX2.
/// </summary>
internal static unsafe class GeluKernel
{
    private const double InvSqrt2 = 0.70710678118654752440;

    /// <summary>y[i] = gelu(x[i]) · (scale[i] when given): GELU alone, or GEGLU's value · gelu(gate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, Span<float> y)
    {
        int i = 0;
        bool scaled = !scale.IsEmpty;
        if (Avx2.IsSupported)
        {
            fixed (float* px = x, ps = scale, py = y)
            fixed (double* value = Erf.TableValues, slope = Erf.TableSlopes)
                for (; i + 4 <= x.Length; i += 4)
                {
                    var v = Avx.ConvertToVector256Double(Vector128.Load(px + i));
                    var g = Vector256.Create(0.5) * v * (Vector256.Create(1.0) + Erf4(v * Vector256.Create(InvSqrt2), value, slope));
                    var f = Avx.ConvertToVector128Single(g);
                    if (scaled) f = Vector128.Load(ps + i) * f;
                    f.Store(py + i);
                }
        }
        for (; i < x.Length; i++) y[i] = scaled ? scale[i] * CpuBackend.GeluExact(x[i]) : CpuBackend.GeluExact(x[i]);
    }

    /// <summary><see cref="Erf.Fast"/> on four doubles.</summary>
    private static Vector256<double> Erf4(Vector256<double> x, double* tableValue, double* tableSlope)
    {
        var ax = Vector256.Abs(x);
        var inRange = Vector256.LessThan(ax, Vector256.Create(Erf.Saturation));   // false for NaN too
        var scaled = ax * Vector256.Create((double)Erf.StepsPerUnit) + Vector256.Create(0.5);
        var k = Avx.ConvertToVector128Int32WithTruncation(Vector256.ConditionalSelect(inRange, scaled, Vector256<double>.Zero));
        var a = Avx.ConvertToVector256Double(k) / Vector256.Create((double)Erf.StepsPerUnit);
        var d = ax - a;
        var a2 = a * a;
        var third = Vector256.Create(1.0 / 3);
        var sixth = Vector256.Create(1.0 / 6);
        var thirtieth = Vector256.Create(1.0 / 30);
        var t5 = (Vector256.Create(4.0) * a2 * a2 - Vector256.Create(12.0) * a2 + Vector256.Create(3.0)) * thirtieth;
        var t4 = (Vector256.Create(3.0) - Vector256.Create(2.0) * a2) * a * sixth + d * t5;
        var t3 = (Vector256.Create(2.0) * a2 - Vector256.Create(1.0)) * third + d * t4;
        var t2 = -a + d * t3;
        var t1 = Vector256.Create(1.0) + d * t2;
        var poly = d * t1;
        var r = Avx2.GatherVector256(tableValue, k, 8) + Avx2.GatherVector256(tableSlope, k, 8) * poly;
        r = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<double>.Zero), -r, r);
        // Saturated: sign(x) (±1, 0 for ±0 which never saturates); NaN stays NaN.
        var saturated = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<double>.Zero), Vector256.Create(-1.0), Vector256.Create(1.0));
        saturated = Vector256.ConditionalSelect(Vector256.Equals(x, x), saturated, x);
        return Vector256.ConditionalSelect(inRange, r, saturated);
    }
}
