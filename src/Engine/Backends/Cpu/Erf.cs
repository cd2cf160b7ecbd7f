using System.Runtime.CompilerServices;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// erf(x) in double precision: the Maclaurin series below |x| = 2.5 (at most ~2 digits lost to cancellation),
/// the Laplace continued fraction of erfc above it. Exact GELU needs this; .NET has no Math.Erf.
/// </summary>
internal static class Erf
{
    private const double TwoOverSqrtPi = 1.1283791670955126;
    internal const int StepsPerUnit = 64;
    internal const double Saturation = 6;   // erf(6) = 1 − 2e-17: 1 in double

    // erf and its slope 2/√π·exp(−a²) at a = k/64, k = 0..384, from the reference series below. Field
    // initialisers rather than a static constructor, so the type stays beforefieldinit and fully optimised
    // callers carry no class-initialisation check per element.
    private static readonly double[] TableValue = Table(a => Of(a));
    private static readonly double[] TableSlope = Table(a => TwoOverSqrtPi * Math.Exp(-a * a));

    /// <summary>The tables, for the vectorised GELU (<see cref="GeluKernel"/>).</summary>
    internal static double[] TableValues => TableValue;
    internal static double[] TableSlopes => TableSlope;

    private static double[] Table(Func<double, double> f)
    {
        var t = new double[(int)(Saturation * StepsPerUnit) + 1];
        for (int k = 0; k < t.Length; k++) t[k] = f((double)k / StepsPerUnit);
        return t;
    }

    /// <summary>
    /// erf(x) to ~1e-14 at a few nanoseconds: Taylor expansion of degree 5 around the nearest table point a
    /// (|x − a| ≤ 1/128), with erf⁽ⁿ⁾(a) = 2/√π·exp(−a²)·(−1)ⁿ⁻¹·Hₙ₋₁(a). GELU calls this per element;
    /// the series in <see cref="Of"/> costs tens of nanoseconds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Fast(double x)
    {
        double ax = Math.Abs(x);
        if (!(ax < Saturation)) return double.IsNaN(x) ? x : Math.Sign(x);
        int k = (int)(ax * StepsPerUnit + 0.5);
        double a = (double)k / StepsPerUnit, d = ax - a, a2 = a * a;
        const double Third = 1.0 / 3, Sixth = 1.0 / 6, Thirtieth = 1.0 / 30;
        double poly = d * (1 + d * (-a + d * ((2 * a2 - 1) * Third + d * ((3 - 2 * a2) * a * Sixth + d * ((4 * a2 * a2 - 12 * a2 + 3) * Thirtieth)))));
        double r = TableValue[k] + TableSlope[k] * poly;
        return x < 0 ? -r : r;
    }

    public static double Of(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 2.5)
        {
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return TwoOverSqrtPi * sum;
        }
        if (ax > 6) return Math.Sign(x);
        // erfc(a) = exp(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …))))), evaluated from the tail.
        double t = ax;
        for (int n = 60; n >= 1; n--) t = ax + n / 2.0 / t;
        double erfc = Math.Exp(-ax * ax) / (Math.Sqrt(Math.PI) * t);
        return x < 0 ? erfc - 1 : 1 - erfc;
    }
}
