using System.Globalization;
using System.Numerics;

namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// Python's <c>round(x, ndigits)</c> for floats: the exact binary value rounded to ndigits decimals (ties to even),
/// then the nearest double — torchsde rounds every Brownian-interval time this way, so a time one ulp off would
/// land on a different grid point.
/// </summary>
internal static class PythonRound
{
    public static double Round(double x, int digits)
    {
        if (!double.IsFinite(x) || x == 0) return x;
        if (digits < 0 || digits > 300) throw new ArgumentOutOfRangeException(nameof(digits));
        bool negative = x < 0;
        long bits = BitConverter.DoubleToInt64Bits(Math.Abs(x));
        int exponent = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xFFFFFFFFFFFFFL;
        BigInteger mantissa = exponent == 0 ? fraction : fraction | (1L << 52);
        int shift = (exponent == 0 ? 1 : exponent) - 1075; // |x| = mantissa · 2^shift
        if (shift >= 0) return x; // an integer: nothing below the decimal point
        var scaled = mantissa * BigInteger.Pow(10, digits); // |x|·10^digits = scaled / 2^−shift
        var denominator = BigInteger.One << -shift;
        var quotient = BigInteger.DivRem(scaled, denominator, out var remainder);
        int cmp = (remainder * 2).CompareTo(denominator);
        if (cmp > 0 || (cmp == 0 && !quotient.IsEven)) quotient += 1;
        double result = double.Parse($"{quotient}E-{digits}", NumberStyles.Float, CultureInfo.InvariantCulture);
        return negative ? -result : result;
    }
}
