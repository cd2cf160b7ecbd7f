using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Lora;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Tests.CliFlows;
using LayerDiffusion.Native.Verify;
using Xunit;

namespace LayerDiffusion.Native.Tests.Lora;

/// <summary>
/// SD1.5 user LoRAs: kohya's diffusers module names (lora_unet_down_blocks_0_attentions_0_...) and ldm ones
/// (lora_unet_input_blocks_1_1_...) both merge into the tiny SD1.5 UNet, checked against W + s·(alpha/rank)·up@down
/// from the file's values; the name correspondence is A1111's convert_diffusers_name_to_compvis for the SD1.5 layout.
/// </summary>
public sealed class Sd15UnetLoraTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Checkpoint => TestPaths.GoldenSd15("tiny_sd15.safetensors");
    private const string UnetKeys = "model.diffusion_model.";

    /// <summary>ldm module → the diffusers name A1111 gives it (1 + 3L + i input blocks, 3L + i output blocks, 2 res blocks a level).</summary>
    public static readonly TheoryData<string, string> A1111Names = new()
    {
        { "input_blocks.0.0", "conv_in" },
        { "time_embed.2", "time_embedding.linear_2" },
        { "out.2", "conv_out" },
        { "input_blocks.1.1.transformer_blocks.0.attn1.to_q", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q" },
        { "input_blocks.2.0.in_layers.2", "down_blocks.0.resnets.1.conv1" },
        { "input_blocks.3.0.op", "down_blocks.0.downsamplers.0.conv" },
        { "input_blocks.4.0.skip_connection", "down_blocks.1.resnets.0.conv_shortcut" },
        { "input_blocks.8.1.proj_in", "down_blocks.2.attentions.1.proj_in" },
        { "input_blocks.10.0.emb_layers.1", "down_blocks.3.resnets.0.time_emb_proj" },
        { "middle_block.1.transformer_blocks.0.attn2.to_k", "mid_block.attentions.0.transformer_blocks.0.attn2.to_k" },
        { "middle_block.2.out_layers.3", "mid_block.resnets.1.conv2" },
        { "output_blocks.2.1.conv", "up_blocks.0.upsamplers.0.conv" },
        { "output_blocks.5.2.conv", "up_blocks.1.upsamplers.0.conv" },
        { "output_blocks.3.1.transformer_blocks.0.ff.net.2", "up_blocks.1.attentions.0.transformer_blocks.0.ff.net.2" },
        { "output_blocks.9.0.skip_connection", "up_blocks.3.resnets.0.conv_shortcut" },
        { "output_blocks.11.1.transformer_blocks.0.attn1.to_out.0", "up_blocks.3.attentions.2.transformer_blocks.0.attn1.to_out.0" },
    };

    private static List<string> Modules(string checkpoint)
    {
        using var f = SafeTensorsFile.Open(checkpoint);
        return Modules(f.Names);
    }

    private static List<string> Modules(IEnumerable<string> keys) =>
        keys.Where(n => n.StartsWith(UnetKeys, StringComparison.Ordinal) && n.EndsWith(".weight", StringComparison.Ordinal))
            .Select(n => n[UnetKeys.Length..^".weight".Length]).ToList();

    /// <summary>
    /// The module names of a UNet of <paramref name="config"/>'s topology, recorded from the loading code (as the
    /// synthetic checkpoints are): the names A1111 maps are the real architecture's, whatever blocks a golden set's
    /// tiny checkpoint has.
    /// </summary>
    private static List<string> Modules(UnetConfig config)
    {
        var layout = new TensorLayout();
        SdxlLayout.Unet(layout, config, UnetKeys);
        return Modules(layout.Tensors.Select(t => t.Name));
    }

    /// <summary>SD1.5's topology (4 levels of 2 res blocks, one transformer on each block of the first three) at toy widths.</summary>
    private static readonly UnetConfig Sd15Topology = new(4, 4, 32, [1, 2, 4, 4], 2, [1, 1, 1, 1, 1, 1, 0, 0],
        [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1], 1, 64, 0, 128, ModelFamily.Sd15.UnetHeads);

    /// <summary>SDXL's topology (3 levels of 2 res blocks, transformers on the last two, 10 deep in the real model: 1 here) at toy widths.</summary>
    private static readonly UnetConfig SdxlTopology = new(4, 4, 64, [1, 2, 4], 2, [0, 0, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 0, 0, 0], 1, 64, 32, 256, ModelFamily.Sdxl.UnetHeads);

    [Theory]
    [MemberData(nameof(A1111Names))]
    public void DiffusersNamesFollowA1111(string ldm, string diffusers) =>
        Assert.Equal(diffusers, DiffusersUnetNames.Of(Modules(Sd15Topology))[ldm]);

    [Fact]
    public void EveryWeightOfBothFamiliesHasItsOwnDiffusersName()
    {
        foreach (var modules in new[] { Modules(Checkpoint), Modules(TestPaths.Golden("tiny_sdxl.safetensors")), Modules(Sd15Topology), Modules(SdxlTopology) })
        {
            var map = DiffusersUnetNames.Of(modules);
            Assert.Equal(modules.Count, map.Count);
            Assert.Equal(map.Count, map.Values.Distinct().Count());
        }
        // SDXL's first up level has attention, so its upsampler is the block's third module.
        var sdxl = DiffusersUnetNames.Of(Modules(SdxlTopology));
        Assert.Equal("up_blocks.0.upsamplers.0.conv", sdxl["output_blocks.2.2.conv"]);
        Assert.Equal("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", sdxl["input_blocks.4.1.transformer_blocks.0.attn1.to_q"]);
        Assert.Equal("add_embedding.linear_1", sdxl["label_emb.0.0"]);
    }

    private static string Kohya(string module) => KohyaLora.UnetPrefix + module.Replace('.', '_');

    /// <summary>
    /// Diffusers-named: the checkpoint's first down-path attention linear (alpha 2, rank 4) and an upsampler LoCon conv
    /// (rank 3, no alpha); ldm-named: a down-path resnet conv (rank 2, alpha 1). Picked from the checkpoint's own modules
    /// (their diffusers names are checked against A1111's table above), so another golden set's tiny UNet works too.
    /// </summary>
    private static (string Ldm, string Named, int Rank, float? Alpha)[] Modules3 => PickModules();

    private static (string Ldm, string Named, int Rank, float? Alpha)[] PickModules()
    {
        var map = DiffusersUnetNames.Of(Modules(Checkpoint));
        string First(Func<string, bool> pick) => map.Keys.Where(pick).Order(StringComparer.Ordinal).First();
        string attn = First(m => m.StartsWith("input_blocks.", StringComparison.Ordinal) && m.EndsWith(".attn1.to_q", StringComparison.Ordinal));
        // Preferably one behind an attention (output_blocks.N.2.conv), whose diffusers index differs from its ldm one.
        string upsampler = map.Keys.Where(m => map[m].StartsWith("up_blocks.", StringComparison.Ordinal) && map[m].EndsWith(".upsamplers.0.conv", StringComparison.Ordinal))
            .OrderByDescending(m => m.EndsWith(".2.conv", StringComparison.Ordinal)).ThenBy(m => m, StringComparer.Ordinal).First();
        string resnet = First(m => m.StartsWith("input_blocks.", StringComparison.Ordinal) && m.EndsWith(".in_layers.2", StringComparison.Ordinal));
        return [(attn, map[attn], 4, 2f), (upsampler, map[upsampler], 3, null), (resnet, resnet, 2, 1f)];
    }

    /// <summary>The synthetic SD1.5 LoRA of <see cref="Modules3"/> as DIR/NAME.safetensors (badModule: one module of that name instead).</summary>
    internal static string WriteLora(string dir, string name, int seed = 1, string? badModule = null)
    {
        var rng = new System.Random(seed);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.5f + 0.001f).ToArray();
        using var ckpt = SafeTensorsFile.Open(Checkpoint);
        var w = new SafeTensorsWriter();
        foreach (var (ldm, named, rank, alpha) in Modules3)
        {
            var shape = ckpt.Info(UnetKeys + ldm + ".weight").Shape;
            int outCh = shape[0], inCh = shape[1];
            int[] down = shape.Length == 4 ? [rank, inCh, shape[2], shape[3]] : [rank, inCh];
            int[] up = shape.Length == 4 ? [outCh, rank, 1, 1] : [outCh, rank];
            string key = Kohya(badModule ?? named);
            w.Add(key + ".lora_down.weight", down, Values(down.Aggregate(1, (a, b) => a * b)))
             .Add(key + ".lora_up.weight", up, Values(outCh * rank));
            if (alpha is { } a) w.Add(key + ".alpha", [], new[] { a });
            if (badModule is not null) break;
        }
        string path = Path.Combine(dir, name + ".safetensors");
        w.Write(path);
        return path;
    }

    [Fact]
    public void DiffusersAndLdmNamedModulesMergeIntoTheSd15Unet()
    {
        string lora = WriteLora(_dir, "sd15style");
        const float weight = 0.6f;
        var paths = new ModelPaths { Checkpoint = Checkpoint, Loras = [new UserLora(lora, "sd15style", weight, weight)] };
        using var models = new ModelBundle(CpuBackend.Instance, paths, null);
        using var ckpt = SafeTensorsFile.Open(Checkpoint);
        using var file = SafeTensorsFile.Open(lora);
        foreach (var (ldm, named, rank, alpha) in Modules3)
        {
            string key = Kohya(named);
            var merged = CpuBackend.Instance.ToHost(models.Unet.Weights.Get(ldm + ".weight"));
            LoraMergeAssert.Merged(ckpt.ReadFloat32(UnetKeys + ldm + ".weight"), merged, file.ReadFloat32(key + ".lora_up.weight"),
                file.ReadFloat32(key + ".lora_down.weight"), rank, weight * (alpha ?? rank) / rank, ldm);
        }
        // A weight no module names (the first attention's proj_in) is left as it was.
        string untouched = Modules3[0].Ldm[..Modules3[0].Ldm.IndexOf(".transformer_blocks.", StringComparison.Ordinal)] + ".proj_in.weight";
        Assert.Equal(ckpt.ReadFloat32(UnetKeys + untouched), CpuBackend.Instance.ToHost(models.Unet.Weights.Get(untouched)));
    }

    [Fact]
    public void APromptTagLoadsTheSd15LoraFromTheCli()
    {
        WriteLora(_dir, "sd15style");
        string[] Args(string prompt, string output) =>
            ["generate", "--method", "sd15-attn", .. CliFiles.Sd15ModelArgs("layer_sd15_transparent_attn.safetensors"), "--lora-dir", _dir,
             "--device", "cpu", .. CliFiles.Small, "--prompt", prompt, "--out", Path.Combine(_dir, output)];
        var (code, _, stderr) = CliRunner.Run(Args("a cup <lora:sd15style:0.8>", "with.png"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run(Args("a cup", "without.png"));
        Assert.True(code == 0, stderr);
        var with = PngReader.Read(Path.Combine(_dir, "with.png"));
        Assert.NotEqual(with.Pixels, PngReader.Read(Path.Combine(_dir, "without.png")).Pixels);
        var p = Infotext.Parse(with.GetText("parameters")!);
        Assert.StartsWith("sd15style: ", p.Parameters["Lora hashes"]);

        // A module this UNet does not have is named in the error.
        WriteLora(_dir, "bad", badModule: "down_blocks.9.attentions.0.proj_in");
        (code, _, stderr) = CliRunner.Run(Args("a cup <lora:bad:1>", "bad.png"));
        Assert.NotEqual(0, code);
        Assert.Contains("lora_unet_down_blocks_9_attentions_0_proj_in.lora_down.weight", stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "bad.png")));
    }
}
