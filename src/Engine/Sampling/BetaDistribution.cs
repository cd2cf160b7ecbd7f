namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// The Beta(α, β) distribution's quantile function (scipy's <c>stats.beta.ppf</c>), for Forge's "Beta" schedule.
/// </summary>
/// <remarks>
/// The regularised incomplete beta function I_x(α, β) by its continued fraction (modified Lentz), log Γ by the
/// Lanczos series (g = 7), the inverse by bisection to the last bit: I_x is increasing in x, so bisection cannot miss.
/// Accurate to ~1e-14, far below the float32 the schedule is stored in.
/// </remarks>
public static class BetaDistribution
{
    /// <summary>The x with I_x(α, β) = p, for p in [0, 1].</summary>
    public static double Ppf(double p, double alpha, double beta)
    {
        if (!(alpha > 0) || !(beta > 0)) throw new ArgumentOutOfRangeException(nameof(alpha), $"Beta({alpha}, {beta}) needs α, β > 0");
        if (double.IsNaN(p) || p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), $"{p} is not a probability");
        if (p == 0) return 0;
        if (p == 1) return 1;
        double lo = 0, hi = 1;
        while (true)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) return mid;
            if (RegularizedIncompleteBeta(mid, alpha, beta) < p) lo = mid; else hi = mid;
        }
    }

    /// <summary>I_x(α, β) = B(x; α, β) / B(α, β).</summary>
    public static double RegularizedIncompleteBeta(double x, double alpha, double beta)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double logFront = LogGamma(alpha + beta) - LogGamma(alpha) - LogGamma(beta) + alpha * Math.Log(x) + beta * Math.Log(1 - x);
        // The continued fraction converges fast for x below the mean-ish point; use the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) above it.
        return x < (alpha + 1) / (alpha + beta + 2)
            ? Math.Exp(logFront) * ContinuedFraction(x, alpha, beta) / alpha
            : 1 - Math.Exp(logFront) * ContinuedFraction(1 - x, beta, alpha) / beta;
    }

    private static double ContinuedFraction(double x, double a, double b)
    {
        const double tiny = 1e-300, eps = 1e-16;
        double qab = a + b, qap = a + 1, qam = a - 1;
        double c = 1, d = 1 - qab * x / qap;
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 10000; m++)
        {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < eps) return h;
        }
        throw new ArithmeticException($"incomplete beta continued fraction did not converge for x={x}, a={a}, b={b}");
    }

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7; reflection below ½).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        double sum = Lanczos[0];
        for (int i = 1; i < Lanczos.Length; i++) sum += Lanczos[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
