namespace LayerDiffusion.Native.Verify;

public enum Verdict { Pass, Fail, Skip }

/// <summary>Result of comparing one tensor.</summary>
public sealed record TensorResult(string Case, string Tensor, Verdict Verdict, double MaxAbs, double RelL2, Tolerance? Tolerance, string? Note)
{
    public string Format()
    {
        string tol = Tolerance is null ? "" : $"tol max_abs={Tolerance.MaxAbs:G3}" + (Tolerance.RelL2 is { } r ? $" rel_l2={r:G3}" : "");
        string v = Verdict switch { Verdict.Pass => "PASS", Verdict.Fail => "FAIL", _ => "SKIP" };
        string nums = Verdict == Verdict.Skip || double.IsNaN(MaxAbs) ? "" : $"max_abs={MaxAbs:G4} rel_l2={RelL2:G4}";
        return $"{Case,-20} {Tensor,-34} {nums,-36} {tol,-34} {v}" + (Note is null ? "" : $"  ({Note})");
    }
}

/// <summary>Error measures between a computed tensor and its reference.</summary>
public static class Comparison
{
    public static (double MaxAbs, double RelL2) Measure(ReadOnlySpan<double> got, ReadOnlySpan<double> want)
    {
        double maxAbs = 0, diff2 = 0, ref2 = 0;
        for (int i = 0; i < want.Length; i++)
        {
            double d = got[i] - want[i];
            if (double.IsNaN(d)) return (double.PositiveInfinity, double.PositiveInfinity);
            maxAbs = Math.Max(maxAbs, Math.Abs(d));
            diff2 += d * d;
            ref2 += want[i] * want[i];
        }
        double rel = ref2 > 0 ? Math.Sqrt(diff2 / ref2) : (diff2 > 0 ? double.PositiveInfinity : 0);
        return (maxAbs, rel);
    }

    /// <summary>Fraction of elements whose absolute error exceeds the bound.</summary>
    public static double FractionOver(ReadOnlySpan<double> got, ReadOnlySpan<double> want, double bound)
    {
        int over = 0;
        for (int i = 0; i < want.Length; i++) if (Math.Abs(got[i] - want[i]) > bound) over++;
        return want.Length == 0 ? 0 : (double)over / want.Length;
    }

    public static double[] ToDouble(Array a) => a switch
    {
        float[] f => f.Select(x => (double)x).ToArray(),
        long[] l => l.Select(x => (double)x).ToArray(),
        byte[] b => b.Select(x => (double)x).ToArray(),
        double[] d => d,
        _ => throw new ArgumentException($"unsupported output array {a.GetType()}"),
    };
}
