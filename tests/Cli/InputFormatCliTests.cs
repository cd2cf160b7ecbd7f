using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.Tests.Imaging;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// Input images as a Forge user has them, through `ld`: JPEG/BMP condition and init images, an RGB init image
/// (composited to alpha 255, as Forge does) and img2img's size taken from the init image when none is given.
/// </summary>
public sealed class InputFormatCliTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Save(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static readonly string[] Fast = ["--steps", "2", "--sampler", "euler", "--quiet"];

    [Fact]
    public void Img2ImgTakesAnRgbInitAndItsSizeRoundedDownToMultiplesOf8()
    {
        // 83x71 RGB: Forge's "Resize by 1" generates at 80x64 (each side minus its remainder mod 8).
        string init = Save("init.bmp", HandMadeImages.Bmp24(HandMadeImages.Pattern(83, 71, 3), 83, 71));
        string output = Path.Combine(_dir, "out.png");
        var (code, _, stderr) = CliRunner.Run(["img2img", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--init", init,
            "--denoise", "0.5", "--out", output, .. Fast]);
        Assert.True(code == 0, stderr);
        var png = PngReader.Read(output);
        Assert.Equal((80, 64, 4), (png.Width, png.Height, png.Channels));
        Assert.Contains("Size: 80x64", png.GetText("parameters"));
    }

    [Fact]
    public void Img2ImgSideNotGivenComesFromTheInit()
    {
        string init = Save("init.bmp", HandMadeImages.Bmp24(HandMadeImages.Pattern(83, 71, 3), 83, 71));
        string output = Path.Combine(_dir, "w.png");
        var (code, _, stderr) = CliRunner.Run(["img2img", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--init", init,
            "--width", "72", "--denoise", "0.5", "--out", output, .. Fast]);
        Assert.True(code == 0, stderr);
        Assert.Equal((72, 64), (PngReader.Read(output).Width, PngReader.Read(output).Height));
    }

    [Fact]
    public void Img2ImgInitTooSmallForASizeAsksForOne()
    {
        string init = Save("small.jpg", HandMadeImages.Baseline420); // 13x9
        var (code, _, stderr) = CliRunner.Run(["img2img", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--init", init,
            "--out", Path.Combine(_dir, "s.png"), .. Fast]);
        Assert.Equal(2, code);
        Assert.Contains("--init: " + init + ": is 13x9, which gives a 8x8 generation, outside [64, 8192] per side; pass --width and --height", stderr);
        // With a size it runs: the image is fitted to it.
        (code, _, stderr) = CliRunner.Run(["img2img", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--init", init,
            "--out", Path.Combine(_dir, "s.png"), "--width", "64", "--height", "64", .. Fast]);
        Assert.True(code == 0, stderr);
    }

    [Fact]
    public void LayerModeTakesAJpegCondition()
    {
        string fg = Save("fg.jpg", HandMadeImages.Progressive444);
        string output = Path.Combine(_dir, "blend.png");
        var (code, _, stderr) = CliRunner.Run(["layer", "--mode", "fg2ble", .. CliFiles.ModelArgs("patch_layer_1cond.safetensors"), "--fg", fg,
            "--out", output, .. CliFiles.Small]);
        Assert.True(code == 0, stderr);
        Assert.Equal(64, PngReader.Read(output).Width);
    }

    [Fact]
    public void AWebPInputIsRefusedByName()
    {
        string fg = Save("fg.webp", [.. "RIFF\0\0\0\0WEBPVP8 "u8, .. new byte[32]]);
        var (code, _, stderr) = CliRunner.Run(["layer", "--mode", "fg2ble", .. CliFiles.ModelArgs("patch_layer_1cond.safetensors"), "--fg", fg,
            "--out", Path.Combine(_dir, "x.png"), .. CliFiles.Small]);
        Assert.Equal(Native.Cli.ExitCodes.FileAccess, code); // a file ld cannot read as an image
        Assert.Contains($"--fg: {fg}: WebP is not supported", stderr);
    }
}
