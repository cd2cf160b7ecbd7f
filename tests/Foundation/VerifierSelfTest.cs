using System.Text.Json;
using System.Text.Json.Nodes;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;
using LayerDiffusion.Native.Verify;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// The verifier must be able to fail: copy one case into a temporary golden folder, push one output off by ten
/// times its tolerance, and expect FAIL for exactly that tensor (through the CLI too, with a non-zero exit).
/// </summary>
public sealed class VerifierSelfTest
{
    /// <summary>Copies one case, its declared weight files and a manifest holding just those into a temp folder.</summary>
    internal static string CopyCase(string caseName)
    {
        var dir = TestPaths.TempDir();
        var manifest = JsonNode.Parse(File.ReadAllText(TestPaths.Golden("manifest.json")))!.AsObject();
        var cases = manifest["cases"]!.AsObject();
        var keep = new JsonObject();
        var c = cases[caseName]!;
        keep[caseName] = c.DeepClone();
        File.Copy(TestPaths.Golden(c["file"]!.GetValue<string>()), Path.Combine(dir, c["file"]!.GetValue<string>()));
        foreach (var use in c["uses"]!.AsArray().Select(u => u!.GetValue<string>()))
        {
            if (cases[use] is { } w)
            {
                keep[use] = w.DeepClone();
                File.Copy(TestPaths.Golden(w["file"]!.GetValue<string>()), Path.Combine(dir, w["file"]!.GetValue<string>()));
            }
        }
        manifest["cases"] = keep;
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
        return dir;
    }

    internal static void Perturb(string dir, string caseName, string output, double by)
    {
        var m = GoldenManifest.Load(dir);
        string file = m.Find(caseName)!.FilePath;
        SafeTensorsWriter copy;
        using (var f = SafeTensorsFile.Open(file))
        {
            copy = new SafeTensorsWriter();
            foreach (var n in f.Names)
            {
                var info = f.Info(n);
                if (n != output) { copy.Add(n, info.DType, info.Shape, f.Bytes(info)); continue; }
                Assert.Equal(DType.F32, info.DType);
                var v = f.ReadFloat32(n);
                v[v.Length / 2] += (float)by;
                copy.Add(n, info.Shape, v);
            }
        }
        copy.Write(file);
    }

    [Fact]
    public void PerturbedOutputFails()
    {
        var dir = CopyCase("vector_cond");
        var spec = GoldenManifest.Load(dir).Find("vector_cond")!.Outputs.First(o => o.Name == "y");
        Perturb(dir, "vector_cond", "y", 10 * spec.Tolerance.MaxAbs);
        var summary = new GoldenVerifier().Run(dir, CpuBackend.Instance, null, Precision.Fp32, TextWriter.Null);
        var y = summary.Results.Single(r => r.Tensor == "y");
        Assert.Equal(Verdict.Fail, y.Verdict);
        Assert.True(y.MaxAbs >= 9 * spec.Tolerance.MaxAbs);
        Assert.Equal(Verdict.Pass, summary.Results.Single(r => r.Tensor == "emb_2").Verdict);
        Assert.Equal(1, summary.Failed);
    }

    [Fact]
    public void CliExitsNonZeroOnFailure()
    {
        var dir = CopyCase("vector_cond");
        var spec = GoldenManifest.Load(dir).Find("vector_cond")!.Outputs.First(o => o.Name == "emb_2");
        Perturb(dir, "vector_cond", "emb_2", -10 * spec.Tolerance.MaxAbs);
        var (code, stdout, _) = CliRunner.Run("verify", "--golden", dir, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("FAIL", stdout);
        Assert.Contains("1 passed, 1 failed, 0 skipped", stdout);
    }

    [Fact]
    public void UnimplementedCaseIsSkipNeverPass()
    {
        var dir = CopyCase("vector_cond");
        var summary = new GoldenVerifier([]).Run(dir, CpuBackend.Instance, null, Precision.Fp32, TextWriter.Null);
        Assert.Equal(0, summary.Passed);
        Assert.Equal(summary.Results.Count, summary.Skipped);
        Assert.All(summary.Results, r => Assert.False(string.IsNullOrEmpty(r.Note)));
    }

    /// <summary>A held-out set may name its weight files differently: runners find them by content.</summary>
    [Fact]
    public void WeightFilesAreFoundByContentNotByName()
    {
        var dir = CopyCase("unet_forward");
        string path = Path.Combine(dir, "manifest.json");
        var json = File.ReadAllText(path).Replace("\"tiny_sdxl\"", "\"renamed_checkpoint\"");
        File.WriteAllText(path, json);
        Assert.NotNull(GoldenManifest.Load(dir).Find("renamed_checkpoint"));
        var summary = new GoldenVerifier().Run(dir, CpuBackend.Instance, null, Precision.Fp32, TextWriter.Null);
        Assert.Equal(1, summary.Passed);
        Assert.Equal(0, summary.Failed + summary.Skipped);
    }

    [Fact]
    public void RunnerCannotReadOutputs()
    {
        var manifest = GoldenManifest.Load(TestPaths.GoldenDir);
        using var ctx = new CaseContext(manifest.Find("vector_cond")!, manifest, CpuBackend.Instance);
        Assert.Throws<InvalidOperationException>(() => ctx.InputF32("y"));
        Assert.Throws<InvalidOperationException>(() => ctx.UsesPath("tiny_sdxl"));
    }
}
