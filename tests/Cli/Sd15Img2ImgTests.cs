using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Tests.Flows;
using LayerDiffusion.Native.Verify;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// SD1.5 transparent img2img from the command line on the golden-sd15 tiny files: `ld img2img --method sd15-attn`
/// starts from the init image's transparent-encoded latent (the encoder file has the SDXL architecture, so the
/// golden SDXL-size encoder weights stand in for layer_sd15_vae_transparent_encoder), samples with the one-frame
/// attention-sharing patch and transparent-decodes, as the extension pairs the SD1.5 encoder with that method.
/// </summary>
public sealed class Sd15Img2ImgTests
{
    private static string G(string file) => TestPaths.GoldenSd15(file);
    private static string Encoder => TestPaths.Golden("transparent_encoder_weights.safetensors");

    private static string[] Models =>
        [.. CliFiles.Sd15ModelArgs("layer_sd15_transparent_attn.safetensors"), "--transparent-encoder", Encoder, "--device", "cpu", "--quiet"];

    private static string[] Run(string init, string output, double denoise, int steps = 10) =>
        ["img2img", "--method", "sd15-attn", "--init", init, .. Models, "--prompt", "a glass cup", "--negative", "bad", "--seed", "7",
         "--rng", "cpu", "--sampler", "euler", "--steps", steps.ToString(), "--denoise", denoise.ToString(System.Globalization.CultureInfo.InvariantCulture),
         "--out", output, "--save-latent", Path.ChangeExtension(output, ".safetensors")];

    private static string WriteInit(string dir, int variant = 3)
    {
        var img = FlowFixture.Image(variant, transparent: true);
        string path = Path.Combine(dir, $"init{variant}.png");
        PngWriter.Write(path, img.Pixels, img.Width, img.Height, 4);
        return path;
    }

    private static float[] SavedLatent(string output)
    {
        using var f = SafeTensorsFile.Open(Path.ChangeExtension(output, ".safetensors"));
        return f.ReadFloat32("latent");
    }

    [Fact]
    public void Sd15AttnImg2ImgIsDeterministicAndStartsFromTheTransparentEncodedInit()
    {
        string dir = TestPaths.TempDir(), init = WriteInit(dir);
        string a = Path.Combine(dir, "a.png"), b = Path.Combine(dir, "b.png"), low = Path.Combine(dir, "low.png"), high = Path.Combine(dir, "high.png");
        foreach (var (output, denoise) in new[] { (a, 0.5), (b, 0.5), (low, 0.05), (high, 1.0) })
        {
            var (code, _, stderr) = CliRunner.Run(Run(init, output, denoise));
            Assert.True(code == 0, stderr);
        }
        var png = PngReader.Read(a);
        Assert.Equal((64, 64, 4), (png.Width, png.Height, png.Channels));
        Assert.Equal(png.Pixels, PngReader.Read(b).Pixels);
        Assert.True(FlowFixture.DistinctAlphas(png.Pixels) > 2);
        var p = Infotext.Parse(png.GetText("parameters")!).Parameters;
        Assert.Equal("0.5", p["Denoising strength"]);
        Assert.Equal("(SD1.5) Only Generate Transparent Image (Attention Injection)", p["layerdiffusion_method"]);
        Assert.Equal("tiny_sd15", p["Model"]);

        // The start latent, unscaled: mean + std · offset of the grey-flattened init and its [alpha, pad_rgb] offset.
        // Denoise 0.05 (2 Euler steps from σ ≈ 0.1) stays near it; denoise 1 starts from σ_max and moves far away.
        float[] start;
        using (var models = new ModelBundle(CpuBackend.Instance, new ModelPaths { Checkpoint = G("tiny_sd15.safetensors"), TransparentEncoder = Encoder }, null))
        {
            Assert.Equal(ModelFamily.Sd15, models.Family);
            start = TransparentImg2Img.Latent(CpuBackend.Instance, models.Vae, models.Encoder, FlowFixture.Image(3, transparent: true), 1f);
        }
        float[] lowLatent = SavedLatent(low), highLatent = SavedLatent(high);
        Assert.All(lowLatent.Concat(highLatent), v => Assert.True(float.IsFinite(v)));
        double lowMove = FlowFixture.MaxAbsDiff(start, lowLatent), highMove = FlowFixture.MaxAbsDiff(start, highLatent);
        Assert.True(lowMove < 0.15 * highMove, $"denoise 0.05 moved the latent {lowMove}, denoise 1 {highMove}");

        // Another init image gives another result.
        string other = Path.Combine(dir, "other.png");
        var (c, _, err) = CliRunner.Run(Run(WriteInit(dir, variant: 4), other, 0.5));
        Assert.True(c == 0, err);
        Assert.NotEqual(png.Pixels, PngReader.Read(other).Pixels);
    }

    [Fact]
    public void ModelsDirFindsTheSd15EncoderByItsReleasedName()
    {
        string dir = TestPaths.TempDir(), models = Directory.CreateDirectory(Path.Combine(dir, "models")).FullName, init = WriteInit(dir);
        File.Copy(G("layer_sd15_transparent_attn.safetensors"), Path.Combine(models, LayerMethods.PatchFileName(LayerMethod.Sd15Attn)));
        File.Copy(G("tiny_transparent_decoder.safetensors"), Path.Combine(models, LayerMethods.Sd15DecoderFileName));
        // Without the encoder: the error names the SD1.5 file.
        string output = Path.Combine(dir, "m.png");
        string[] args = ["img2img", "--method", "sd15-attn", "--init", init, "--model", G("tiny_sd15.safetensors"), "--tokenizer", CliFiles.Vocab,
            "--models-dir", models, "--device", "cpu", "--quiet", "--steps", "2", "--out", output];
        var (code, _, stderr) = CliRunner.Run(args);
        Assert.NotEqual(0, code);
        Assert.Contains(LayerMethods.Sd15EncoderFileName, stderr);
        Assert.False(File.Exists(output));
        File.Copy(Encoder, Path.Combine(models, LayerMethods.Sd15EncoderFileName));
        (code, _, stderr) = CliRunner.Run(args);
        Assert.True(code == 0, stderr);
        Assert.Equal(4, PngReader.Read(output).Channels);
    }

    [Fact]
    public void WrongMethodCheckpointOrEncoderFileIsAClearError()
    {
        string dir = TestPaths.TempDir(), init = WriteInit(dir), output = Path.Combine(dir, "e.png");
        // The multi-frame methods are not img2img methods.
        var (code, _, stderr) = CliRunner.Run(["img2img", "--method", "sd15-joint", "--init", init, .. Models, "--out", output]);
        Assert.Equal(2, code);
        Assert.Contains("--method", stderr);
        // The SDXL method on the SD1.5 checkpoint.
        (code, _, stderr) = CliRunner.Run(["img2img", "--method", "attn", "--init", init, .. Models, "--steps", "2", "--out", output]);
        Assert.NotEqual(0, code);
        Assert.Contains("SD1.5", stderr);
        // The SD1.5 method on the SDXL checkpoint.
        string[] sdxl = [.. Models];
        sdxl[Array.IndexOf(sdxl, "--model") + 1] = TestPaths.Golden("tiny_sdxl.safetensors");
        (code, _, stderr) = CliRunner.Run(["img2img", "--method", "sd15-attn", "--init", init, .. sdxl, "--steps", "2", "--out", output]);
        Assert.NotEqual(0, code);
        Assert.Contains("SD1.5", stderr);
        // The decoder given as the encoder: named by option and by the SD1.5 file it should be.
        string[] swapped = [.. Models];
        swapped[Array.IndexOf(swapped, "--transparent-encoder") + 1] = G("tiny_transparent_decoder.safetensors");
        (code, _, stderr) = CliRunner.Run(["img2img", "--method", "sd15-attn", "--init", init, .. swapped, "--out", output]);
        Assert.Equal(2, code);
        Assert.Contains("--transparent-encoder", stderr);
        Assert.Contains(LayerMethods.Sd15EncoderFileName, stderr);
        Assert.False(File.Exists(output));
    }
}
