using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;

namespace LayerDiffusion.Native.Verify;

public sealed record VerifySummary(int Passed, int Failed, int Skipped, IReadOnlyList<TensorResult> Results)
{
    public string Line => $"{Passed} passed, {Failed} failed, {Skipped} skipped";
}

/// <summary>
/// Runs every check case of a golden manifest through its runner and compares each declared output.
/// This is the single source of the golden checks: `ld verify` and the xunit suite both call it.
/// </summary>
public sealed class GoldenVerifier
{
    private readonly IReadOnlyDictionary<string, ICaseRunner> _runners;

    public GoldenVerifier(IEnumerable<ICaseRunner>? runners = null)
    {
        _runners = (runners ?? CaseRunners.All).ToDictionary(r => r.CaseName, StringComparer.Ordinal);
    }

    public VerifySummary Run(string goldenDir, IBackend backend, IReadOnlyCollection<string>? onlyCases, Precision precision, TextWriter log)
    {
        var manifest = GoldenManifest.Load(goldenDir);
        if (onlyCases is not null)
            foreach (var name in onlyCases)
                if (manifest.Find(name) is not { Kind: "check" })
                    throw new InvalidOptionException("--cases", $"no check case '{name}' in {goldenDir}/manifest.json");
        var results = new List<TensorResult>();
        foreach (var c in manifest.Cases.Where(c => c.Kind == "check"))
        {
            if (onlyCases is not null && !onlyCases.Contains(c.Name)) continue;
            foreach (var r in RunCase(c, manifest, backend, precision))
            {
                results.Add(r);
                log.WriteLine(r.Format());
                log.Flush();
            }
        }
        var summary = new VerifySummary(
            results.Count(r => r.Verdict == Verdict.Pass),
            results.Count(r => r.Verdict == Verdict.Fail),
            results.Count(r => r.Verdict == Verdict.Skip), results);
        log.WriteLine(summary.Line);
        return summary;
    }

    private IEnumerable<TensorResult> RunCase(GoldenCase c, GoldenManifest manifest, IBackend backend, Precision precision)
    {
        if (!_runners.TryGetValue(c.Name, out var runner))
            return c.Outputs.Select(o => new TensorResult(c.Name, o.Name, Verdict.Skip, double.NaN, double.NaN, null, "no runner for this case in this engine"));
        using var ctx = new CaseContext(c, manifest, backend);
        string? error = null;
        try
        {
            runner.Run(ctx);
        }
        catch (NotSupportedException e)
        {
            return c.Outputs.Select(o => new TensorResult(c.Name, o.Name, Verdict.Skip, double.NaN, double.NaN, null, e.Message));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error = DebugOptions.ShowStackTraces ? e.ToString() : $"{e.GetType().Name}: {e.Message}";
        }
        using var reference = SafeTensorsFile.Open(c.FilePath);
        return c.Outputs.Select(o => Compare(c, o, ctx, reference, precision, error)).ToList();
    }

    private static TensorResult Compare(GoldenCase c, OutputSpec o, CaseContext ctx, SafeTensorsFile reference, Precision precision, string? error)
    {
        if (!ctx.Emitted.TryGetValue(o.Name, out var got))
            return error is not null
                ? new TensorResult(c.Name, o.Name, Verdict.Fail, double.NaN, double.NaN, o.Tolerance, error)
                : new TensorResult(c.Name, o.Name, Verdict.Skip, double.NaN, double.NaN, null, "runner does not compute this output yet");
        var wantInfo = reference.Info(o.Name);
        double[] want = wantInfo.DType == Tensors.DType.I64
            ? Comparison.ToDouble(reference.ReadInt64(o.Name))
            : Comparison.ToDouble(reference.ReadFloat32(o.Name));
        double[] have = Comparison.ToDouble(got);
        if (have.Length != want.Length)
            return new TensorResult(c.Name, o.Name, Verdict.Fail, double.NaN, double.NaN, o.Tolerance,
                $"computed {have.Length} elements, reference {Tensors.Shape.Format(wantInfo.Shape)} has {want.Length}");
        var (maxAbs, rel) = Comparison.Measure(have, want);
        var tol = o.Tolerance;
        bool pass;
        string? note = null;
        if (precision != Precision.Fp32 && PrecisionMode.ReducedBound(c.Name, o) is { } reduced)
        {
            tol = reduced;
            if (o.DType == "uint8")
            {
                double over = Comparison.FractionOver(have, want, 2);
                pass = over <= 0.01;
                note = $"{over:P2} of bytes off by more than 2";
            }
            else pass = rel <= reduced.RelL2;
        }
        else pass = maxAbs <= tol.MaxAbs && (tol.RelL2 is null || rel <= tol.RelL2);
        return new TensorResult(c.Name, o.Name, pass ? Verdict.Pass : Verdict.Fail, maxAbs, rel, tol, note);
    }
}
