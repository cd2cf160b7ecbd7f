using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Tensors;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Backends.Selftest;

/// <summary>
/// Runs the op cases on a backend against the fp32 CPU reference. Inputs are seeded uniform random values (never
/// zeros), rounded to the backend's storage precision before both backends see them, so the comparison measures the
/// op's own arithmetic and output rounding, not the input's. Bounds on rel_l2 = ‖out − ref‖ / ‖ref‖: fp32 1e-5,
/// fp16 2e-3, bf16 1.6e-2 (bf16 keeps 8 bits: its output rounding alone is ~2e-3). NaN never passes.
/// </summary>
public static class SelftestRunner
{
    public static double Tolerance(Precision p) => p switch { Precision.Fp16 => 2e-3, Precision.Bf16 => 1.6e-2, _ => 1e-5 };

    /// <summary>
    /// The cases whose name contains <paramref name="filter"/> (any of several separated by '|') and none of the
    /// <paramref name="exclude"/> alternatives; timing-only cases only when <paramref name="timing"/>.
    /// </summary>
    public static IEnumerable<SelftestCase> Select(string? filter, bool timing = false, string? exclude = null)
    {
        static string[] Alternatives(string? s) => string.IsNullOrEmpty(s) ? [] : s.Split('|', StringSplitOptions.RemoveEmptyEntries);
        var include = Alternatives(filter);
        var skip = Alternatives(exclude);
        return SelftestCases.All.Where(c => (timing || !c.TimingOnly)
            && (include.Length == 0 || include.Any(f => c.Name.Contains(f, StringComparison.OrdinalIgnoreCase)))
            && !skip.Any(f => c.Name.Contains(f, StringComparison.OrdinalIgnoreCase)));
    }

    public static List<SelftestResult> Run(IBackend target, Precision precision, string? filter, TextWriter log, int seed = 1234, bool timing = false, string? exclude = null)
    {
        var results = new List<SelftestResult>();
        foreach (var c in Select(filter, timing, exclude))
        {
            var r = RunOne(c, target, precision, seed, timing);
            results.Add(r);
            log.WriteLine(r.Line);
            log.Flush();
        }
        return results;
    }

    public static SelftestResult RunOne(SelftestCase c, IBackend target, Precision precision, int seed = 1234, bool timing = false)
    {
        double tol = Tolerance(precision) * c.ToleranceScale;
        if (c.Unavailable?.Invoke(target) is { } why)
            return new SelftestResult(c.Name, double.NaN, double.NaN, tol, true, null) { Skipped = why, TimingOnly = c.TimingOnly };
        try
        {
            var inputs = MakeInputs(c, precision, seed);
            double? ms = timing && c.Run is not null ? TimeOp(c, target, inputs) : null;
            if (c.TimingOnly) return new SelftestResult(c.Name, 0, 0, tol, true, null) { Milliseconds = ms, TimingOnly = true };
            float[] expected = c.Reference is not null ? c.Reference(inputs)
                : c.HostRun is not null ? c.HostRun(CpuBackend.Instance, inputs)
                : Evaluate(c, CpuBackend.Instance, inputs);
            string? footprint = null;
            float[] actual = c.HostRun is not null ? c.HostRun(target, inputs) : Evaluate(c, target, inputs, v => footprint = v);
            if (actual.Length != expected.Length)
                return new SelftestResult(c.Name, double.NaN, double.NaN, tol, false, $"{actual.Length} values, reference has {expected.Length}");
            var (maxAbs, relL2) = Compare(actual, expected);
            bool passed = relL2 <= tol && (c.MaxAbsBound is not { } bound || maxAbs <= bound) && footprint is null;
            return new SelftestResult(c.Name, maxAbs, relL2, tol, passed, footprint) { Milliseconds = ms };
        }
        catch (Exception e)
        {
            // One broken case must not hide the others' results (the GPU run is short and rare).
            var inner = e is AggregateException { InnerException: { } ie } ? ie : e;
            return new SelftestResult(c.Name, double.NaN, double.NaN, tol, false, $"{inner.GetType().Name}: {inner.Message}");
        }
    }

    /// <summary>Runs the case's op; on a CUDA backend with footprint expectations, reports what they break.</summary>
    private static float[] Evaluate(SelftestCase c, IBackend b, float[][] inputs, Action<string?>? footprint = null)
    {
        var ts = new Tensor[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++) ts[i] = b.FromHost(inputs[i], c.Inputs[i].Shape);
            Tensor result;
            if (b is CudaBackend cb && (c.Launches is not null || c.MaxScratchBytes is not null))
            {
                (result, var measured) = OpFootprint.Measure(cb, () => c.Run!(b, ts));
                footprint?.Invoke(measured.Violations(c));
            }
            else result = c.Run!(b, ts);
            using var y = result;
            return b.ToHost(y);
        }
        finally
        {
            foreach (var t in ts) t?.Dispose();
        }
    }

    /// <summary>
    /// Median of several timed runs of the op (inputs already on the device, one warm-up run first), timed by the
    /// backend's own clock where it has one (CUDA events on the GPU), else the wall clock.
    /// </summary>
    private static double TimeOp(SelftestCase c, IBackend b, float[][] inputs)
    {
        const int Runs = 7;
        var ts = new Tensor[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++) ts[i] = b.FromHost(inputs[i], c.Inputs[i].Shape);
            c.Run!(b, ts).Dispose();
            var times = new double[Runs];
            for (int r = 0; r < Runs; r++)
            {
                if (b is IBackendDiagnostics d)
                    times[r] = d.TimeMs(() => c.Run!(b, ts).Dispose()); // device time (CUDA events on the GPU)
                else
                {
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    c.Run!(b, ts).Dispose();
                    times[r] = sw.Elapsed.TotalMilliseconds;
                }
            }
            Array.Sort(times);
            return times[Runs / 2];
        }
        finally
        {
            foreach (var t in ts) t?.Dispose();
        }
    }

    /// <summary>Seeded per case (by name), so a filter does not change a case's inputs.</summary>
    internal static float[][] MakeInputs(SelftestCase c, Precision precision, int seed)
    {
        var rng = new System.Random(seed ^ StableHash(c.Name));
        var result = new float[c.Inputs.Length][];
        for (int i = 0; i < c.Inputs.Length; i++)
        {
            var spec = c.Inputs[i];
            var v = new float[Shape.Count(spec.Shape)];
            for (int j = 0; j < v.Length; j++)
            {
                float x = spec.Low + (spec.High - spec.Low) * (float)rng.NextDouble();
                if (x == 0f) x = spec.High * 0.5f + 1e-3f; // never an exact zero
                v[j] = Round(x, precision);
            }
            result[i] = v;
        }
        return result;
    }

    internal static float Round(float x, Precision p) => p switch
    {
        Precision.Fp16 => (float)(Half)x,
        Precision.Bf16 => BitConverter.Int32BitsToSingle(IO.Convert.ToBFloat16(x) << 16),
        _ => x,
    };

    internal static (double MaxAbs, double RelL2) Compare(float[] actual, float[] expected)
    {
        double maxAbs = 0, diff2 = 0, ref2 = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            if (double.IsNaN(d)) return (double.NaN, double.NaN);
            maxAbs = Math.Max(maxAbs, Math.Abs(d));
            diff2 += d * d;
            ref2 += (double)expected[i] * expected[i];
        }
        double rel = ref2 > 0 ? Math.Sqrt(diff2 / ref2) : (diff2 > 0 ? double.PositiveInfinity : 0);
        return (maxAbs, rel);
    }

    private static int StableHash(string s)
    {
        unchecked
        {
            int h = (int)2166136261;
            foreach (char ch in s) h = (h ^ ch) * 16777619;
            return h;
        }
    }
}
