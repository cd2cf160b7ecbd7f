using System.Text.Json.Nodes;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// `ld verify` on a golden folder whose manifest.json is broken: every error names manifest.json, the case and the
/// field, and the exit code is not 0; a case whose declared files are missing FAILS rather than skipping.
/// </summary>
public sealed class BrokenManifestTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public BrokenManifestTests()
    {
        // The golden data files by link (verify only reads them), with a manifest of our own.
        foreach (var f in Directory.GetFiles(TestPaths.GoldenDir, "*.safetensors"))
            File.CreateSymbolicLink(Path.Combine(_dir, Path.GetFileName(f)), f);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ManifestPath => Path.Combine(_dir, "manifest.json");

    private static JsonObject Golden() => JsonNode.Parse(File.ReadAllText(TestPaths.Golden("manifest.json")))!.AsObject();

    private (int Code, string Stdout, string Stderr) Verify(string manifest, string cases)
    {
        File.WriteAllText(ManifestPath, manifest);
        return CliRunner.Run("verify", "--golden", _dir, "--device", "cpu", "--cases", cases);
    }

    private (int Code, string Stdout, string Stderr) Verify(Action<JsonObject> edit, string cases)
    {
        var m = Golden();
        edit(m);
        return Verify(m.ToJsonString(), cases);
    }

    [Theory]
    [InlineData("{\"cases\": {", "not valid JSON (line 1")]
    [InlineData("[1, 2]", "the top level is an array, expected an object")]
    [InlineData("{\"holdout\": false}", "field 'cases': is missing (expected an object)")]
    [InlineData("{\"cases\": []}", "field 'cases': is an array, expected an object")]
    [InlineData("{\"cases\": {\"vae\": 3}}", "case 'vae': is the number 3, expected an object")]
    [InlineData("{\"cases\": {\"vae\": {\"file\": \"vae.safetensors\"}}}", "case 'vae': field 'kind': is missing (expected a string)")]
    [InlineData("{\"holdout\": \"yes\", \"cases\": {}}", "field 'holdout': is the string \"yes\", expected true or false")]
    public void AStructurallyBrokenManifestIsOneErrorNamingTheField(string manifest, string expected)
    {
        var (code, stdout, stderr) = Verify(manifest, "vae");
        Assert.Equal(2, code);
        Assert.Contains(ManifestPath, stderr);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("internal error", stderr + stdout);
    }

    public static TheoryData<string, string> WrongFieldTypes() => new()
    {
        { "kind", "case 'vae': field 'kind': is the number 7, expected a string" },
        { "file", "case 'vae': field 'file': is an array, expected a string" },
        { "uses", "case 'vae': field 'uses[0]': is the number 1, expected a string" },
        { "shape", "case 'vae': field 'outputs.decoded.shape[1]': is the string \"3\", expected a non-negative integer" },
        { "dtype", "case 'vae': field 'outputs.decoded.dtype': is missing (expected a string)" },
        { "max_abs", "case 'vae': field 'outputs.decoded.max_abs': is -1, expected a finite number >= 0" },
        { "rel_l2", "case 'vae': field 'outputs.decoded.rel_l2': is the string \"small\", expected a number" },
        { "inputs", "case 'vae': field 'inputs': is the boolean true, expected an object" },
    };

    [Theory]
    [MemberData(nameof(WrongFieldTypes))]
    public void AWrongFieldTypeNamesTheCaseAndField(string field, string expected)
    {
        var (code, stdout, stderr) = Verify(m =>
        {
            var vae = m["cases"]!["vae"]!.AsObject();
            var decoded = vae["outputs"]!["decoded"]!.AsObject();
            switch (field)
            {
                case "kind": vae["kind"] = 7; break;
                case "file": vae["file"] = new JsonArray(); break;
                case "uses": vae["uses"] = new JsonArray(1); break;
                case "shape": decoded["shape"] = new JsonArray(1, "3"); break;
                case "dtype": decoded.Remove("dtype"); break;
                case "max_abs": decoded["max_abs"] = -1; break;
                case "rel_l2": decoded["rel_l2"] = "small"; break;
                case "inputs": vae["inputs"] = true; break;
            }
        }, "vae");
        Assert.Equal(2, code);
        Assert.Contains($"{ManifestPath}: {expected}", stderr);
        Assert.DoesNotContain("internal error", stderr + stdout);
    }

    [Theory]
    [InlineData("weights-file", "field 'uses':", "does not exist")]
    [InlineData("unknown-use", "field 'uses': 'no_such_case' is neither a case of the manifest nor a file", "")]
    [InlineData("data-file", "field 'file':", "does not exist")]
    public void ACaseWhoseFilesAreMissingFails(string what, string expected, string also)
    {
        var (code, stdout, stderr) = Verify(m =>
        {
            var cases = m["cases"]!.AsObject();
            switch (what)
            {
                case "weights-file": cases["tiny_sdxl"]!["file"] = "gone.safetensors"; break;
                case "unknown-use": cases["vae"]!["uses"] = new JsonArray("no_such_case"); break;
                case "data-file": cases["vae"]!["file"] = "gone.safetensors"; break;
            }
        }, "vae");
        Assert.True(code == 1, $"exit {code}: {stdout}{stderr}");
        var fails = stdout.Split('\n').Where(l => l.Contains("FAIL")).ToList();
        Assert.Equal(3, fails.Count); // vae's three outputs
        Assert.All(fails, l => Assert.Contains($"{ManifestPath}: case 'vae': {expected}", l));
        Assert.All(fails, l => Assert.Contains(also, l));
        Assert.Contains("0 passed, 3 failed, 0 skipped", stdout);
    }

    [Fact]
    public void ASettingsFieldOfTheWrongTypeFailsTheCaseNamingManifestAndCase()
    {
        var (code, stdout, _) = Verify(m => m["cases"]!["rng_torch_cpu"]!["settings"]!["draws"]![0]!["seed"] = "twelve", "rng_torch_cpu");
        Assert.Equal(1, code);
        var fail = stdout.Split('\n').First(l => l.Contains("FAIL"));
        Assert.Contains($"{ManifestPath}: case 'rng_torch_cpu': a field of 'settings' is missing or of the wrong type", fail);
    }

    [Fact]
    public void TheUnchangedManifestStillPasses()
    {
        var (code, stdout, stderr) = Verify(Golden().ToJsonString(), "vae");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("3 passed, 0 failed, 0 skipped", stdout);
    }
}
