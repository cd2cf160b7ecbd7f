using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>`--preview-every` files, the latent → RGB approximation behind them, and the PNG infotext round trip.</summary>
public sealed class PreviewAndInfotextTests
{
    [Fact]
    public void LatentPreviewAppliesTheSdxlFactorsAndBias()
    {
        // One latent cell per test: zero (bias alone), then a unit value in each channel.
        var latent = new float[4 * 5];
        for (int k = 0; k < 4; k++) latent[k * 5 + k + 1] = 1f;
        var rgb = LatentPreview.Sdxl.ToRgb(latent, 1, 5);
        // ((0.1084 + 1) / 2) · 255 = 141.3, ((−0.0175 + 1) / 2) · 255 = 125.3, ((−0.0011 + 1) / 2) · 255 = 127.4
        Assert.Equal(new byte[] { 141, 125, 127 }, rgb[0..3]);
        // channel 0: (0.3651 + 0.1084, 0.4232 − 0.0175, 0.4341 − 0.0011) → 187, 179, 182
        Assert.Equal(new byte[] { 187, 179, 182 }, rgb[3..6]);
        // channel 3: (−0.3165 + 0.1084, −0.2492 − 0.0175, −0.2188 − 0.0011) → 100, 93, 99
        Assert.Equal(new byte[] { 100, 93, 99 }, rgb[12..15]);
        Assert.Throws<ArgumentException>(() => LatentPreview.Sdxl.ToRgb(new float[3 * 5], 1, 5));
    }

    [Fact]
    public void PreviewEveryNWritesLatentSizedPngsAtThoseSteps()
    {
        string dir = TestPaths.TempDir();
        string output = Path.Combine(dir, "demo.png");
        var (code, stdout, stderr) = CliRunner.Run("generate", "--demo", "--out", output, "--width", "64", "--height", "96",
            "--steps", "5", "--preview-every", "2", "--quiet");
        Assert.True(code == 0, stderr);
        var previews = Directory.GetFiles(dir, "*_preview_*").Select(f => Path.GetFileName(f)!).Order().ToArray();
        Assert.Equal(["demo_preview_step2.png", "demo_preview_step4.png"], previews);
        foreach (var name in previews)
        {
            Assert.Contains(Path.Combine(dir, name!), stdout);
            var png = PngReader.Read(Path.Combine(dir, name!));
            Assert.Equal((8, 12, 3), (png.Width, png.Height, png.Channels));
        }
        // Later steps are closer to the final image: the two previews are not the same picture.
        Assert.NotEqual(PngReader.Read(Path.Combine(dir, previews[0]!)).Pixels, PngReader.Read(Path.Combine(dir, previews[1]!)).Pixels);
    }

    [Fact]
    public void ABatchGetsOnePreviewPerImage()
    {
        string dir = TestPaths.TempDir();
        var (code, _, stderr) = CliRunner.Run("generate", "--demo", "--out", Path.Combine(dir, "b.png"), "--width", "64", "--height", "64",
            "--steps", "2", "--batch", "2", "--preview-every", "2", "--quiet");
        Assert.True(code == 0, stderr);
        Assert.Equal(["b-0_preview_step2.png", "b-1_preview_step2.png"],
            Directory.GetFiles(dir, "*_preview_*").Select(f => Path.GetFileName(f)!).Order().ToArray());
    }

    [Fact]
    public void TheInfotextRoundTripsThroughThePng()
    {
        string dir = TestPaths.TempDir();
        string output = Path.Combine(dir, "info.png");
        const string prompt = "a glass bottle, (high quality:1.2), \"label\": none";
        var (code, _, stderr) = CliRunner.Run("generate", "--demo", "--out", output, "--prompt", prompt, "--negative", "bad, ugly",
            "--steps", "3", "--seed", "4242", "--width", "64", "--height", "80", "--sampler", "dpmpp_2m", "--schedule", "karras",
            "--cfg", "6.5", "--weight", "0.8", "--stop-at", "0.9", "--quiet");
        Assert.True(code == 0, stderr);

        var text = PngReader.Read(output).GetText("parameters");
        Assert.NotNull(text);
        var (p, negative, pars) = Infotext.Parse(text!);
        Assert.Equal(prompt, p);
        Assert.Equal("bad, ugly", negative);
        Assert.Equal("3", pars["Steps"]);
        Assert.Equal("4242", pars["Seed"]);
        Assert.Equal("64x80", pars["Size"]);
        Assert.Equal("DPM++ 2M", pars["Sampler"]);
        Assert.Equal("Karras", pars["Schedule type"]);
        Assert.Equal("6.5", pars["CFG scale"]);
        Assert.Equal("True", pars["layerdiffusion_enabled"]);
        Assert.Equal(LayerMethods.DisplayName(LayerMethod.Attn), pars["layerdiffusion_method"]);
        Assert.Equal("0.8", pars["layerdiffusion_weight"]);
        Assert.Equal("0.9", pars["layerdiffusion_ending_step"]);
        Assert.False(pars.ContainsKey("Denoising strength"));
    }

    [Fact]
    public void Img2ImgRecordsItsDenoisingStrength()
    {
        string dir = TestPaths.TempDir();
        string init = CliFiles.WritePng(dir, "init.png", 4);
        string output = Path.Combine(dir, "i2i.png");
        var (code, stdout, stderr) = CliRunner.Run(["img2img", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--init", init,
            "--denoise", "0.6", "--out", output, "--vis", .. CliFiles.Small]);
        Assert.True(code == 0, stderr);
        Assert.Contains(output, stdout);
        var png = PngReader.Read(output);
        Assert.Equal((64, 64, 4), (png.Width, png.Height, png.Channels));
        var (_, _, pars) = Infotext.Parse(png.GetText("parameters")!);
        Assert.Equal("0.6", pars["Denoising strength"]);
        // A1111's checkpoint shorthash: the first 10 hex digits of the file's SHA-256.
        using (var model = File.OpenRead(TestPaths.Golden("tiny_sdxl.safetensors")))
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model))[..10], pars["Model hash"]);
        Assert.Equal(("False", "Crop and Resize"), (pars["layerdiffusion_fg_image"], pars["layerdiffusion_resize_mode"]));
        Assert.True(File.Exists(Path.Combine(dir, "i2i_vis.png")));
    }
}
