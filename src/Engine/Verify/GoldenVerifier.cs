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
        // A declared file that is not there is a broken golden set, not a case this engine may skip.
        if (MissingFile(c, manifest) is { } missing) return FailAll(c, missing);
        string? error = null;
        try
        {
            using var ctx = new CaseContext(c, manifest, backend);
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
                error = DebugOptions.ShowStackTraces ? e.ToString()
                    : FromSettings(e) ? $"{Path.Combine(manifest.Directory, "manifest.json")}: case '{c.Name}': a field of 'settings' is missing or of the wrong type ({e.Message})"
                    : $"{e.GetType().Name}: {e.Message}";
            }
            using var reference = SafeTensorsFile.Open(c.FilePath);
            return c.Outputs.Select(o => Compare(c, o, ctx, reference, precision, error)).ToList();
        }
        catch (LdException e)
        {
            return FailAll(c, e.Message); // the case's own data file (inputs, reference) is missing or corrupt
        }
    }

    private static List<TensorResult> FailAll(GoldenCase c, string why) =>
        c.Outputs.Select(o => new TensorResult(c.Name, o.Name, Verdict.Fail, double.NaN, double.NaN, o.Tolerance, why)).ToList();

    /// <summary>The first file the case needs that does not exist: its own data file, or a 'uses' entry (a case's file or a path).</summary>
    private static string? MissingFile(GoldenCase c, GoldenManifest manifest)
    {
        string manifestPath = Path.Combine(manifest.Directory, "manifest.json");
        if (c.File is null) return $"{manifestPath}: case '{c.Name}': field 'file' is missing (a check case needs its data file)";
        if (!System.IO.File.Exists(c.FilePath)) return $"{manifestPath}: case '{c.Name}': field 'file': {c.FilePath} does not exist";
        foreach (var use in c.Uses)
        {
            if (manifest.Find(use) is { } used)
            {
                if (used.File is null) return $"{manifestPath}: case '{c.Name}': field 'uses': case '{use}' names no file";
                if (!System.IO.File.Exists(used.FilePath)) return $"{manifestPath}: case '{c.Name}': field 'uses': {used.FilePath} (case '{use}') does not exist";
            }
            else
            {
                string path = Path.GetFullPath(Path.Combine(manifest.Directory, use));
                if (!System.IO.File.Exists(path) && !Directory.Exists(path))
                    return $"{manifestPath}: case '{c.Name}': field 'uses': '{use}' is neither a case of the manifest nor a file ({path} does not exist)";
            }
        }
        return null;
    }

    /// <summary>True when a runner failed reading its settings (a missing property or a value of the wrong JSON type).</summary>
    private static bool FromSettings(Exception e) =>
        e is KeyNotFoundException or InvalidOperationException or FormatException &&
        e.StackTrace?.Contains("System.Text.Json.", StringComparison.Ordinal) == true;

    private static TensorResult Compare(GoldenCase c, OutputSpec o, CaseContext ctx, SafeTensorsFile reference, Precision precision, string? error)
    {
        if (!ctx.Emitted.TryGetValue(o.Name, out var got))
            return error is not null
                ? new TensorResult(c.Name, o.Name, Verdict.Fail, double.NaN, double.NaN, o.Tolerance, error)
                : new TensorResult(c.Name, o.Name, Verdict.Skip, double.NaN, double.NaN, null, "runner does not compute this output yet");
        if (!reference.Contains(o.Name))
            return new TensorResult(c.Name, o.Name, Verdict.Fail, double.NaN, double.NaN, o.Tolerance, $"{c.FilePath}: holds no reference tensor '{o.Name}'");
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
