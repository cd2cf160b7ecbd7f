namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// erf(x) in double precision: the Maclaurin series below |x| = 2.5 (at most ~2 digits lost to cancellation),
/// the Laplace continued fraction of erfc above it. Exact GELU needs this; .NET has no Math.Erf.
/// </summary>
internal static class Erf
{
    private const double TwoOverSqrtPi = 1.1283791670955126;

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
