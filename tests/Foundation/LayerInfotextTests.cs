using System.Security.Cryptography;
using System.Text;
using LayerDiffusion.Native.Cli;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// The extension's layerdiffusion_* keys as its process_before_every_sampling writes them through A1111's
/// create_infotext (Python bools, the UI labels, empty additional prompts as "key: "), read back by Forge's parser and
/// ours; and A1111's "Model hash" (sha256[:10]) with its cache.
/// </summary>
public sealed class LayerInfotextTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly RgbaImage Pixel = new(1, 1, [1, 2, 3, 255]);

    [Fact]
    public void TransparentGenerationWritesAllElevenKeysAsTheExtensionDoes()
    {
        var s = new GenerationSettings { Prompt = "p", Method = LayerMethod.Attn };
        string text = GenerateCommand.InfotextFor(s, "juggernautXL", 1, modelHash: "0123456789");
        Assert.Contains(", Size: 1024x1024, Model hash: 0123456789, Model: juggernautXL, ", text);
        Assert.Contains("layerdiffusion_enabled: True, layerdiffusion_method: (SDXL) Only Generate Transparent Image (Attention Injection), " +
            "layerdiffusion_weight: 1, layerdiffusion_ending_step: 1, layerdiffusion_fg_image: False, layerdiffusion_bg_image: False, " +
            "layerdiffusion_blend_image: False, layerdiffusion_resize_mode: Crop and Resize, layerdiffusion_fg_additional_prompt: , " +
            "layerdiffusion_bg_additional_prompt: , layerdiffusion_blend_additional_prompt: , Version: ", text);
    }

    [Fact]
    public void LayerModeRecordsItsImagesAndResizeModeAndReadsBack()
    {
        var s = new GenerationSettings { Prompt = "p", Method = LayerMethod.FgBle2Bg, Weight = 0.75f, StopAt = 0.5f };
        var inputs = new GenerationInputs { Foreground = Pixel, Blend = Pixel, ResizeMode = ResizeMode.ResizeAndFill };
        string text = GenerateCommand.InfotextFor(s, "m", 1, inputs: inputs);
        Assert.Contains("layerdiffusion_method: (SDXL) From Foreground and Blending to Background, layerdiffusion_weight: 0.75, " +
            "layerdiffusion_ending_step: 0.5, layerdiffusion_fg_image: True, layerdiffusion_bg_image: False, layerdiffusion_blend_image: True, " +
            "layerdiffusion_resize_mode: Resize and Fill, ", text);

        // Forge's parser skips the empty additional prompts and keeps everything else.
        var forge = ForgeInfotext.Parse(text);
        Assert.Equal(("True", "0.75", "0.5", "Resize and Fill"), (forge["layerdiffusion_fg_image"], forge["layerdiffusion_weight"],
            forge["layerdiffusion_ending_step"], forge["layerdiffusion_resize_mode"]));
        Assert.False(forge.ContainsKey("layerdiffusion_fg_additional_prompt"));

        var back = LayerInfotext.Read(Infotext.Parse(text).Parameters);
        Assert.Equal(new LayerInfotextSettings(LayerMethod.FgBle2Bg, 0.75f, 0.5f, ResizeMode.ResizeAndFill, true, false, true), back);
        Assert.Equal(back, LayerInfotext.Read(forge));
    }

    [Theory]
    [InlineData(LayerMethod.Attn)]
    [InlineData(LayerMethod.Conv)]
    [InlineData(LayerMethod.Fg2Ble)]
    [InlineData(LayerMethod.Bg2Ble)]
    [InlineData(LayerMethod.BgBle2Fg)]
    [InlineData(LayerMethod.Sd15Attn)]
    [InlineData(LayerMethod.Sd15Joint)]
    [InlineData(LayerMethod.Sd15Fg2Bg)]
    [InlineData(LayerMethod.Sd15Bg2Fg)]
    public void EveryMethodReadsBack(LayerMethod method)
    {
        var s = new GenerationSettings { Method = method, Weight = 1.25f, Batch = LayerMethods.FrameCount(method), BlendPrompt = "on a table, at night" };
        var back = LayerInfotext.Read(Infotext.Parse(GenerateCommand.InfotextFor(s, "m", 1)).Parameters);
        Assert.Equal((method, 1.25f, "on a table, at night"), (back!.Method, back.Weight, back.BlendPrompt));
    }

    [Fact]
    public void AnUnknownMethodOrADisabledRunIsNotReadAsOurs()
    {
        Assert.Null(LayerInfotext.Read(new Dictionary<string, string> { ["Steps"] = "20" }));
        Assert.Null(LayerInfotext.Read(new Dictionary<string, string> { ["layerdiffusion_enabled"] = "False" }));
        var e = Assert.Throws<FormatException>(() => LayerInfotext.Read(new Dictionary<string, string>
        {
            ["layerdiffusion_enabled"] = "True",
            ["layerdiffusion_method"] = "(SD2) Only Generate Transparent Image",
        }));
        Assert.Contains("layerdiffusion_method: '(SD2) Only Generate Transparent Image'", e.Message);
    }

    [Fact]
    public void ModelHashIsTheShortSha256AndIsCachedByPathSizeAndMtime()
    {
        string file = Path.Combine(_dir, "model.safetensors");
        File.WriteAllText(file, "abc");
        var hashes = new FileHashes(Path.Combine(_dir, "cache", "hashes.tsv"));
        // SHA-256("abc") from FIPS 180-2's example.
        Assert.Equal("ba7816bf8f", hashes.ShortHash(file));

        // Same size and mtime: the cached hash is used (the file is not read again).
        var mtime = File.GetLastWriteTimeUtc(file);
        File.WriteAllText(file, "xyz");
        File.SetLastWriteTimeUtc(file, mtime);
        Assert.Equal("ba7816bf8f", new FileHashes(Path.Combine(_dir, "cache", "hashes.tsv")).ShortHash(file));

        // A new mtime: hashed again.
        File.SetLastWriteTimeUtc(file, mtime.AddSeconds(5));
        Assert.Equal(System.Convert.ToHexStringLower(SHA256.HashData("xyz"u8))[..10], hashes.ShortHash(file));
        Assert.Single(File.ReadAllLines(Path.Combine(_dir, "cache", "hashes.tsv")));
    }

    [Fact]
    public void AddnetHashSkipsTheSafetensorsHeader()
    {
        byte[] header = Encoding.UTF8.GetBytes("{\"__metadata__\":{}}  ");
        byte[] data = [1, 2, 3, 4, 5, 6, 7, 8];
        string file = Path.Combine(_dir, "lora.safetensors");
        File.WriteAllBytes(file, [.. BitConverter.GetBytes((long)header.Length), .. header, .. data]);
        Assert.Equal(System.Convert.ToHexStringLower(SHA256.HashData(data)), new FileHashes(Path.Combine(_dir, "h.tsv")).AddnetHash(file));
    }
}
