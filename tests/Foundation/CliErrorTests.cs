using LayerDiffusion.Native.Cli;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

public sealed class CliErrorTests
{
    [Fact]
    public void InfoReportsTheTinyCheckpointConfigFromShapes()
    {
        var (code, stdout, _) = CliRunner.Run("info", TestPaths.Golden("tiny_sdxl.safetensors"));
        Assert.Equal(0, code);
        Assert.Contains("model channels 32, multipliers 1,2,4", stdout);
        Assert.Contains("transformer depth per level 0,2,3 (mid 3)", stdout);
        Assert.Contains("context width 128, adm width 1584", stdout);
    }

    [Fact]
    public void InfoDescribesPatchFiles()
    {
        var (code, stdout, _) = CliRunner.Run("info", TestPaths.Golden("patch_attn_lora.safetensors"));
        Assert.Equal(0, code);
        Assert.Contains("LoRA ranks: 8", stdout);
    }

    [Theory]
    [InlineData("random")]
    [InlineData("truncated")]
    [InlineData("missing")]
    [InlineData("json-not-model")]
    public void BadFilesGiveOneLineAndTheirExitCode(string kind)
    {
        var dir = TestPaths.TempDir();
        string path = Path.Combine(dir, kind + ".safetensors");
        switch (kind)
        {
            case "random": File.WriteAllBytes(path, Enumerable.Range(0, 4096).Select(i => (byte)(i * 131 + 17)).ToArray()); break;
            case "truncated": File.WriteAllBytes(path, File.ReadAllBytes(TestPaths.Golden("vae.safetensors"))[..1000]); break;
            case "json-not-model": File.WriteAllText(path, "{\"hello\": \"world\"}"); break;
        }
        var (code, stdout, stderr) = CliRunner.Run("info", path);
        Assert.Equal(kind == "missing" ? ExitCodes.FileAccess : ExitCodes.ModelFile, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(path, stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
    }

    [Fact]
    public void UnknownOptionIsAnError()
    {
        var (code, _, stderr) = CliRunner.Run("verify", "--golden", TestPaths.GoldenDir, "--bogus", "1");
        Assert.Equal(2, code);
        Assert.Contains("--bogus", stderr);
    }

    [Fact]
    public void UnknownCaseIsAnError()
    {
        var (code, _, stderr) = CliRunner.Run("verify", "--golden", TestPaths.GoldenDir, "--cases", "no_such_case");
        Assert.Equal(2, code);
        Assert.Contains("no_such_case", stderr);
    }
}
