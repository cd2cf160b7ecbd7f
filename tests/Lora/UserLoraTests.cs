using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Lora;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Tests.CliFlows;
using LayerDiffusion.Native.Text;
using Xunit;

namespace LayerDiffusion.Native.Tests.Lora;

/// <summary>
/// User LoRAs in kohya/A1111 layout: the prompt tags as A1111 parses them, the merge into the UNet checked against
/// a direct computation of W + s·(alpha/rank)·up@down from the file's values (a linear and a 3x3 LoCon conv, random
/// non-zero weights), and the CLI: tags removed from the encoded prompt, --lora/--lora-dir, "Lora hashes".
/// </summary>
public sealed class UserLoraTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PromptTagsAreRemovedAndParsedAsA1111Does()
    {
        var (text, loras) = PromptLoras.Extract("a cat <lora:style:0.8>, dog<lora:b:1:0.5> <hypernet:x:1><lora:c:te=0.3:unet=0.7> <lora:d>");
        Assert.Equal("a cat , dog  ", text);
        Assert.Equal([new("style", 0.8f, 0.8f), new("b", 0.5f, 1f), new("c", 0.7f, 0.3f), new("d", 1f, 1f)], loras);
        var e = Assert.Throws<InvalidOptionException>(() => PromptLoras.Extract("<lora:x:strong>"));
        Assert.Contains("<lora:x:strong>: 'strong' is not a number", e.Message);
    }

    private const string Linear = "input_blocks.4.1.transformer_blocks.0.attn1.to_q", Conv = "input_blocks.1.0.in_layers.2";

    /// <summary>A kohya LoRA on the tiny UNet: rank 4 on a [64, 64] linear (alpha 2), rank 3 LoCon on a [32, 32, 3, 3] conv (no alpha), one CLIP-L module (tests/Lora/TextEncoderLoraTests checks those).</summary>
    private string WriteLora(string name, int seed = 1)
    {
        var rng = new System.Random(seed);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.5f + 0.001f).ToArray();
        string L(string module) => KohyaLora.UnetPrefix + module.Replace('.', '_');
        var w = new SafeTensorsWriter()
            .Add(L(Linear) + ".lora_down.weight", [4, 64], Values(4 * 64))
            .Add(L(Linear) + ".lora_up.weight", [64, 4], Values(64 * 4))
            .Add(L(Linear) + ".alpha", [], new float[] { 2 })
            .Add(L(Conv) + ".lora_down.weight", [3, 32, 3, 3], Values(3 * 32 * 9))
            .Add(L(Conv) + ".lora_up.weight", [32, 3, 1, 1], Values(32 * 3))
            .Add("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", [2, 64], Values(2 * 64))
            .Add("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", [256, 2], Values(256 * 2));
        string path = Path.Combine(_dir, name + ".safetensors");
        w.Write(path);
        return path;
    }

    [Fact]
    public void MergedUnetWeightsAreWPlusScaledUpTimesDown()
    {
        string lora = WriteLora("style");
        const float weight = 0.7f;
        var paths = new ModelPaths { Checkpoint = TestPaths.Golden("tiny_sdxl.safetensors"), Loras = [new UserLora(lora, "style", weight, weight)] };
        using var models = new ModelBundle(CpuBackend.Instance, paths, null);
        using var ckpt = SafeTensorsFile.Open(paths.Checkpoint);
        using var file = SafeTensorsFile.Open(lora);
        foreach (var (module, alphaOverRank) in new[] { (Linear, 2.0 / 4), (Conv, 1.0) })
        {
            string key = KohyaLora.UnetPrefix + module.Replace('.', '_');
            var up = file.ReadFloat32(key + ".lora_up.weight");
            var down = file.ReadFloat32(key + ".lora_down.weight");
            var w0 = ckpt.ReadFloat32("model.diffusion_model." + module + ".weight");
            int rank = file.Info(key + ".lora_down.weight").Shape[0];
            var merged = CpuBackend.Instance.ToHost(models.Unet.Weights.Get(module + ".weight"));
            LoraMergeAssert.Merged(w0, merged, up, down, rank, weight * alphaOverRank, module);
        }
        // A weight the LoRA does not touch is the checkpoint's.
        Assert.Equal(ckpt.ReadFloat32("model.diffusion_model.input_blocks.4.1.proj_in.weight"),
            CpuBackend.Instance.ToHost(models.Unet.Weights.Get("input_blocks.4.1.proj_in.weight")));
    }

    [Fact]
    public void TheOriginalRebuiltAfterTheLayerMergeKeepsTheLora()
    {
        // The layer model patches the same projection; with the original's copies freed during its merge, the
        // original (Stop At) is rebuilt from the checkpoint and must get the user LoRA again.
        var paths = new ModelPaths
        {
            Checkpoint = TestPaths.Golden("tiny_sdxl.safetensors"), LayerModel = TestPaths.Golden("patch_attn_lora.safetensors"),
            Loras = [new UserLora(WriteLora("style"), "style", 0.7f, 0.7f)],
        };
        using var models = new ModelBundle(CpuBackend.Instance, paths, null);
        var before = CpuBackend.Instance.ToHost(models.Unet.Weights.Get(Linear + ".weight"));
        models.Patched(LayerMethod.Attn, 1f, keepOriginal: false);
        Assert.Equal(before, CpuBackend.Instance.ToHost(models.Unet.Weights.Get(Linear + ".weight")));
    }

    [Fact]
    public void AKeyNamingNoUnetModuleIsRefusedByName()
    {
        string path = Path.Combine(_dir, "bad.safetensors");
        new SafeTensorsWriter()
            .Add("lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", [2, 4], new float[8])
            .Add("lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight", [4, 2], new float[8]).Write(path);
        var paths = new ModelPaths { Checkpoint = TestPaths.Golden("tiny_sdxl.safetensors"), Loras = [new UserLora(path, "bad", 1, 1)] };
        using var models = new ModelBundle(CpuBackend.Instance, paths, null);
        var e = Assert.Throws<ModelFormatException>(() => models.Unet);
        Assert.Contains($"{path}: tensor 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': names no UNet module", e.Message);
    }

    private (int Code, string Stderr, string Png) Generate(string name, string prompt, params string[] extra)
    {
        string output = Path.Combine(_dir, name + ".png");
        var (code, _, stderr) = CliRunner.Run(["generate", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--prompt", prompt,
            "--out", output, .. CliFiles.Small, .. extra]);
        return (code, stderr, output);
    }

    [Fact]
    public void CliMergesPromptLorasAndWritesTheirHashes()
    {
        string lora = WriteLora("style");
        var plain = Generate("plain", "a cat");
        Assert.True(plain.Code == 0, plain.Stderr);
        // Weight 0 merges nothing: the picture equals the one without the tag, so the tag never reached the encoders.
        var zero = Generate("zero", "a cat <lora:style:0>", "--lora-dir", _dir);
        Assert.True(zero.Code == 0, zero.Stderr);
        Assert.Equal(PngReader.Read(plain.Png).Pixels, PngReader.Read(zero.Png).Pixels);

        var styled = Generate("styled", "a cat <lora:style:3>", "--lora-dir", _dir);
        Assert.True(styled.Code == 0, styled.Stderr);
        Assert.DoesNotContain("warning", styled.Stderr);
        Assert.NotEqual(PngReader.Read(plain.Png).Pixels, PngReader.Read(styled.Png).Pixels);
        string text = PngReader.Read(styled.Png).GetText("parameters")!;
        Assert.StartsWith("a cat <lora:style:3>\n", text);
        string addnet = new FileHashes(Path.Combine(_dir, "h.tsv")).AddnetHash(lora)[..12];
        Assert.Contains($", Lora hashes: \"style: {addnet}\", layerdiffusion_enabled: True", text);
        Assert.Equal($"style: {addnet}", Foundation.ForgeInfotext.Parse(text)["Lora hashes"]);

        // The same file through --lora PATH:WEIGHT gives the same picture.
        var option = Generate("option", "a cat", "--lora", lora + ":3");
        Assert.True(option.Code == 0, option.Stderr);
        Assert.Equal(PngReader.Read(styled.Png).Pixels, PngReader.Read(option.Png).Pixels);
    }

    [Fact]
    public void CliErrorsNameTheTagOrTheFile()
    {
        var noDir = Generate("x", "a <lora:style:1>");
        Assert.Equal(2, noDir.Code);
        Assert.Contains("--prompt: <lora:style>: pass --lora-dir DIR", noDir.Stderr);

        var missing = Generate("x", "a <lora:nope:1>", "--lora-dir", _dir);
        Assert.Equal(2, missing.Code);
        Assert.Contains($"--prompt: <lora:nope>: no nope.safetensors under --lora-dir {_dir}", missing.Stderr);
        // A folder part that does not exist under --lora-dir: the same error, not an I/O failure.
        var noFolder = Generate("x", "a <lora:nosuch/nope:1>", "--lora-dir", _dir);
        Assert.Equal(2, noFolder.Code);
        Assert.Contains($"--prompt: <lora:nosuch/nope>: no nosuch/nope.safetensors under --lora-dir {_dir}", noFolder.Stderr);

        var notLora = Generate("x", "a", "--lora", TestPaths.Golden("patch_attn_lora.safetensors"));
        Assert.Equal(2, notLora.Code);
        Assert.Contains($"--lora: {TestPaths.Golden("patch_attn_lora.safetensors")}: is LayerDiffusion attention LoRA", notLora.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "x.png")));
    }
}
