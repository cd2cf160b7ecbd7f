using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// `ld info` names every file kind from keys and shapes (the golden stand-ins of the released files, and small
/// files built here for the layouts the golden set lacks), and `ld generate/layer/img2img` refuse a model file of
/// the wrong kind for the method before loading anything, naming the file and what it is.
/// </summary>
public sealed class FileKindTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("tiny_sdxl.safetensors", "kind: SDXL checkpoint")]
    [InlineData("patch_attn_lora.safetensors", "kind: LayerDiffusion attention LoRA (layer_xl_transparent_attn.safetensors, method attn)")]
    [InlineData("patch_conv_diff.safetensors", "kind: LayerDiffusion conv offsets (layer_xl_transparent_conv.safetensors, method conv)")]
    [InlineData("patch_layer_1cond.safetensors", "kind: LayerDiffusion one-condition layer model (layer_xl_fg2ble or layer_xl_bg2ble")]
    [InlineData("patch_layer_2cond.safetensors", "kind: LayerDiffusion two-condition layer model (layer_xl_fgble2bg or layer_xl_bgble2fg: layer mode fgble2bg or bgble2fg; offsets the transformer layers too")]
    [InlineData("tiny_transparent_decoder.safetensors", "kind: LayerDiffusion transparent VAE decoder")]
    [InlineData("transparent_encoder_weights.safetensors", "kind: LayerDiffusion transparent VAE encoder")]
    public void InfoNamesTheGoldenFiles(string file, string expected)
    {
        var (code, stdout, stderr) = CliRunner.Run("info", TestPaths.Golden(file));
        Assert.True(code == 0, stderr);
        Assert.Contains(expected, stdout);
    }

    [Theory]
    [InlineData("layer_sd15_transparent_attn.safetensors", "(layer_sd15_transparent_attn)")]
    [InlineData("layer_sd15_joint.safetensors", "(layer_sd15_joint)")]
    [InlineData("layer_sd15_fg2bg.safetensors", "(layer_sd15_fg2bg or layer_sd15_bg2fg)")]
    public void InfoNamesTheSd15LayerModels(string file, string expected)
    {
        var (code, stdout, stderr) = CliRunner.Run("info", Path.Combine(TestPaths.GoldenDir, "..", "golden-sd15", file));
        Assert.True(code == 0, stderr);
        Assert.Contains("kind: SD1.5 LayerDiffusion attention-sharing model " + expected, stdout);
    }

    private string Write(string name, params (string Key, int[] Shape)[] tensors)
    {
        var w = new SafeTensorsWriter();
        foreach (var (key, shape) in tensors) w.Add(key, shape, new float[shape.Aggregate(1, (a, b) => a * b)].Select((_, i) => 0.01f * (i + 1)).ToArray());
        string path = Path.Combine(_dir, name);
        w.Write(path);
        return path;
    }

    [Fact]
    public void InfoNamesTheFgBle2BgLayoutAndAKohyaLora()
    {
        var (code, stdout, _) = CliRunner.Run("info", Write("fgble2bg_like.safetensors",
            ("diffusion_model.input_blocks.0.0.weight::diff::0", [4, 12, 3, 3]), ("diffusion_model.out.2.weight::diff::0", [4, 4, 3, 3])));
        Assert.Equal(0, code);
        Assert.Contains("layer mode fgble2bg or bgble2fg; no transformer offsets, as the released fgble2bg)", stdout);

        string lora = Write("style.safetensors",
            ("lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight", [4, 16]),
            ("lora_unet_down_blocks_1_attentions_0_proj_in.lora_up.weight", [16, 4]),
            ("lora_unet_down_blocks_1_attentions_0_proj_in.alpha", []),
            ("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", [4, 8]),
            ("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", [8, 4]));
        (code, stdout, _) = CliRunner.Run("info", lora);
        Assert.Equal(0, code);
        Assert.Contains("kind: user LoRA (kohya/A1111): 1 UNet, 1 CLIP-L and 0 OpenCLIP-G modules, rank 4", stdout);
    }

    [Fact]
    public void InfoReadsAPngWrittenByLdBackIntoSettings()
    {
        string output = Path.Combine(_dir, "out.png");
        var (code, _, stderr) = CliRunner.Run(["generate", "--demo", "--out", output, "--weight", "0.7", .. CliFiles.Small]);
        Assert.True(code == 0, stderr);
        var (infoCode, stdout, infoErr) = CliRunner.Run("info", output);
        Assert.True(infoCode == 0, infoErr);
        Assert.Contains("kind: PNG image, 64x64", stdout);
        Assert.Contains("layerdiffusion_enabled: True", stdout);
        Assert.Contains("layerdiffusion: method attn, weight 0.7, stop at 1, resize mode Crop and Resize", stdout);
    }

    [Theory]
    [InlineData("generate", "conv", "patch_attn_lora.safetensors", "LayerDiffusion attention LoRA (layer_xl_transparent_attn.safetensors, method attn)")]
    [InlineData("generate", "attn", "patch_conv_diff.safetensors", "LayerDiffusion conv offsets")]
    [InlineData("layer", "fg2ble", "patch_layer_2cond.safetensors", "LayerDiffusion two-condition layer model")]
    [InlineData("layer", "fgble2bg", "patch_layer_1cond.safetensors", "LayerDiffusion one-condition layer model")]
    public void APatchFileOfAnotherMethodIsRefused(string command, string method, string patch, string what)
    {
        string[] args = command == "layer"
            ? ["layer", "--mode", method, "--fg", CliFiles.WritePng(_dir, "fg.png", 4), "--blend", CliFiles.WritePng(_dir, "b.png", 4)]
            : ["generate", "--method", method];
        var (code, _, stderr) = CliRunner.Run([.. args, .. CliFiles.ModelArgs(patch), "--out", Path.Combine(_dir, "x.png"), .. CliFiles.Small]);
        Assert.Equal(2, code);
        Assert.Contains($"--layer-model: {TestPaths.Golden(patch)}: is {what}", stderr);
        Assert.Contains($"not the patch for method {method}", stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "x.png")));
    }

    [Fact]
    public void AReleasedFileNameOfAnotherModeIsRefusedWhereTheLayoutIsShared()
    {
        string bg2ble = Path.Combine(_dir, "layer_xl_bg2ble.safetensors");
        File.Copy(TestPaths.Golden("patch_layer_1cond.safetensors"), bg2ble);
        var args = CliFiles.ModelArgs("patch_layer_1cond.safetensors");
        args[Array.IndexOf(args, "--layer-model") + 1] = bg2ble;
        var (code, _, stderr) = CliRunner.Run(["layer", "--mode", "fg2ble", "--fg", CliFiles.WritePng(_dir, "fg.png", 4), .. args,
            "--out", Path.Combine(_dir, "x.png"), .. CliFiles.Small]);
        Assert.Equal(2, code);
        Assert.Contains($"--layer-model: {bg2ble}: is the released file of method bg2ble, not the patch for method fg2ble (layer_xl_fg2ble.safetensors)", stderr);
    }

    [Fact]
    public void TheEncoderGivenAsTheDecoderIsRefused()
    {
        var args = CliFiles.ModelArgs("patch_attn_lora.safetensors");
        args[Array.IndexOf(args, "--transparent-decoder") + 1] = TestPaths.Golden("transparent_encoder_weights.safetensors");
        var (code, _, stderr) = CliRunner.Run(["generate", .. args, "--out", Path.Combine(_dir, "x.png"), .. CliFiles.Small]);
        Assert.Equal(2, code);
        Assert.Contains("--transparent-decoder: " + TestPaths.Golden("transparent_encoder_weights.safetensors") +
            ": is LayerDiffusion transparent VAE encoder (vae_transparent_encoder.safetensors: RGBA -> latent offset), not the vae_transparent_decoder.safetensors this option takes", stderr);
    }

    [Fact]
    public void ClassifyNeverThrowsOnTheGoldenFiles()
    {
        foreach (var file in Directory.GetFiles(TestPaths.GoldenDir, "*.safetensors"))
        {
            using var f = SafeTensorsFile.Open(file);
            Assert.False(string.IsNullOrEmpty(ModelFileKinds.Classify(f).Description));
        }
    }
}
