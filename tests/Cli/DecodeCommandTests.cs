using LayerDiffusion.Native.Cli;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Vae;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Tests.Flows;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// `ld decode`: the transparent decoder alone reproduces the pipeline's RGBA from the saved image and latent, and
/// every malformed input is one clear error.
/// </summary>
public sealed class DecodeCommandTests
{
    private static readonly string Decoder = TestPaths.Golden("tiny_transparent_decoder.safetensors");

    /// <summary>One attn run on the golden models: its RGB as a PNG with infotext, its latent as --save-latent writes it.</summary>
    private sealed class Run
    {
        public readonly string Dir = TestPaths.TempDir();
        public readonly string RgbPath, LatentPath;
        public readonly GeneratedImage Image;

        public Run()
        {
            using var models = FlowFixture.Models(LayerMethod.Attn);
            var r = new LayerPipeline(models).Run(FlowFixture.Settings("attn", steps: 2), new GenerationInputs());
            Image = r.Images[0];
            RgbPath = Path.Combine(Dir, "rgb.png");
            PngWriter.Write(RgbPath, Image.Rgb, 64, 64, 3, [new("parameters", "an apple\nSteps: 2, Seed: 12345, Size: 64x64")]);
            LatentPath = Path.Combine(Dir, "latent.safetensors");
            new SafeTensorsWriter().Add("latent", [1, 4, 8, 8], r.Latent.Select(v => v / r.Family.LatentScale).ToArray()).Write(LatentPath);
        }
    }

    private static readonly Lazy<Run> Shared = new(() => new Run());

    [Fact]
    public void ReproducesThePipelinesRgbaFromImageAndLatent()
    {
        var run = Shared.Value;
        string output = Path.Combine(run.Dir, "decoded.png");
        var (code, stdout, stderr) = CliRunner.Run("decode", "--rgb", run.RgbPath, "--latent", run.LatentPath,
            "--transparent-decoder", Decoder, "--out", output, "--vis", "--device", "cpu");
        Assert.True(code == 0, stderr);
        Assert.Contains(output, stdout);
        var png = PngReader.Read(output);
        Assert.Equal(4, png.Channels);
        Assert.Equal(run.Image.Rgba, png.Pixels);
        Assert.Equal("an apple\nSteps: 2, Seed: 12345, Size: 64x64", png.GetText("parameters"));
        var vis = PngReader.Read(Path.Combine(run.Dir, "decoded_vis.png"));
        Assert.Equal(run.Image.Preview, vis.Pixels);
    }

    [Fact]
    public void WithACheckpointTheVaeDecodesTheLatentFirst()
    {
        var run = Shared.Value;
        string output = Path.Combine(run.Dir, "from-model.png");
        var (code, _, stderr) = CliRunner.Run("decode", "--model", TestPaths.Golden("tiny_sdxl.safetensors"), "--latent", run.LatentPath,
            "--transparent-decoder", Decoder, "--out", output, "--device", "cpu");
        Assert.True(code == 0, stderr);
        Assert.Equal(run.Image.Rgba, PngReader.Read(output).Pixels);
    }

    public static TheoryData<string, string> BadLatents() => new()
    {
        { "wrong-name", "'latent'" },
        { "rank-3", "[4, 8, 8]" },
        { "batch-2", "--index" },
        { "size-mismatch", "96x96" },
        { "wrong-channels", "3 channels" },
    };

    [Theory]
    [MemberData(nameof(BadLatents))]
    public void MalformedLatentsAreOneClearError(string kind, string mention)
    {
        var run = Shared.Value;
        string path = Path.Combine(run.Dir, kind + ".safetensors");
        var w = new SafeTensorsWriter();
        _ = kind switch
        {
            "wrong-name" => w.Add("samples", [1, 4, 8, 8], new float[256]),
            "rank-3" => w.Add("latent", [4, 8, 8], new float[256]),
            "batch-2" => w.Add("latent", [2, 4, 8, 8], new float[512]),
            "size-mismatch" => w.Add("latent", [1, 4, 12, 12], new float[576]),
            _ => w.Add("latent", [1, 3, 8, 8], new float[192]),
        };
        w.Write(path);
        string output = Path.Combine(run.Dir, kind + ".png");
        var (code, stdout, stderr) = CliRunner.Run("decode", "--rgb", run.RgbPath, "--latent", path, "--transparent-decoder", Decoder,
            "--out", output, "--device", "cpu");
        // A latent file of the wrong layout is a bad model-format file (4); one for another image size is a usage error.
        Assert.Equal(kind is "size-mismatch" or "batch-2" ? ExitCodes.Usage : ExitCodes.ModelFile, code);
        string last = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.Contains(kind == "size-mismatch" ? run.RgbPath : path, last);
        Assert.Contains(mention, last);
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void IndexPicksAnImageOfABatchLatent()
    {
        var run = Shared.Value;
        string batchPath = Path.Combine(run.Dir, "batch.safetensors");
        float[] single;
        using (var f = SafeTensorsFile.Open(run.LatentPath)) single = f.ReadFloat32("latent");
        new SafeTensorsWriter().Add("latent", [3, 4, 8, 8], [.. new float[256], .. new float[256], .. single]).Write(batchPath);

        string output = Path.Combine(run.Dir, "index2.png");
        var (code, _, stderr) = CliRunner.Run("decode", "--rgb", run.RgbPath, "--latent", batchPath, "--index", "2",
            "--transparent-decoder", Decoder, "--out", output, "--device", "cpu");
        Assert.True(code == 0, stderr);
        Assert.Equal(run.Image.Rgba, PngReader.Read(output).Pixels);

        (code, _, stderr) = CliRunner.Run("decode", "--rgb", run.RgbPath, "--latent", batchPath, "--index", "3",
            "--transparent-decoder", Decoder, "--out", output, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("--index", stderr);
    }

    [Fact]
    public void ATransparentImageIsNotTheVaeOutput()
    {
        var run = Shared.Value;
        string rgba = CliFiles.WritePng(run.Dir, "transparent.png", 4);
        var (code, _, stderr) = CliRunner.Run("decode", "--rgb", rgba, "--latent", run.LatentPath, "--transparent-decoder", Decoder,
            "--out", Path.Combine(run.Dir, "t.png"));
        Assert.Equal(2, code);
        Assert.Contains("--rgb", stderr);
        Assert.Contains(rgba, stderr);
    }

    [Fact]
    public void RgbAndModelAreAlternatives()
    {
        var run = Shared.Value;
        var (code, _, stderr) = CliRunner.Run("decode", "--latent", run.LatentPath, "--transparent-decoder", Decoder);
        Assert.Equal(2, code);
        Assert.Contains("--rgb", stderr);
        (code, _, stderr) = CliRunner.Run("decode", "--rgb", run.RgbPath, "--model", TestPaths.Golden("tiny_sdxl.safetensors"),
            "--latent", run.LatentPath, "--transparent-decoder", Decoder);
        Assert.Equal(2, code);
        Assert.Contains("not both", stderr);
    }
}
