using LayerDiffusion.Native.Cli;
using System.Security.Cryptography;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.IO.Outputs;
using LayerDiffusion.Native.Tests.CliFlows;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// The data-loss cases of the reliability issue, through `ld` itself: an output that names an input (directly, through
/// a link or a linked folder) or another output is refused before any work, naming the option, and every input stays
/// byte for byte; a write that fails keeps none of the run's outputs. Inputs are copies in the test's own folder, so a
/// regression destroys only those.
/// </summary>
public sealed class CliOutputSafetyTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();
    private readonly string _model, _layer, _decoder, _encoder, _vocab, _rgba, _rgb;

    public CliOutputSafetyTests()
    {
        string Copy(string source, string name)
        {
            string path = Path.Combine(_dir, name);
            File.Copy(source, path);
            return path;
        }
        _model = Copy(TestPaths.Golden("tiny_sdxl.safetensors"), "model.safetensors");
        _layer = Copy(TestPaths.Golden("patch_attn_lora.safetensors"), "layer.safetensors");
        _decoder = Copy(TestPaths.Golden("tiny_transparent_decoder.safetensors"), "decoder.safetensors");
        _encoder = Copy(TestPaths.Golden("transparent_encoder_weights.safetensors"), "encoder.safetensors");
        _vocab = Copy(CliFiles.Vocab, "bpe_simple_vocab_16e6.txt.gz");
        _rgba = CliFiles.WritePng(_dir, "init.png", 4);
        _rgb = CliFiles.WritePng(_dir, "rgb.png", 3);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string[] Models =>
        ["--model", _model, "--tokenizer", _vocab, "--layer-model", _layer, "--transparent-decoder", _decoder, "--transparent-encoder", _encoder];

    // Not --quiet: a run that started work would print its sampler steps.
    private static readonly string[] Small = ["--width", "64", "--height", "64", "--steps", "2", "--sampler", "euler", "--device", "cpu"];

    private string[] Generate(params string[] extra) => ["generate", .. Models, .. Small, .. extra];

    private Dictionary<string, byte[]> Snapshot() =>
        Directory.GetFiles(_dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .ToDictionary(f => f, f => SHA256.HashData(File.ReadAllBytes(f)));

    /// <summary>Runs `ld`, expects exit 2 with the option named before any sampling, and the folder exactly as it was.</summary>
    private void Refused(string[] args, string option, string mentions, int exit = ExitCodes.Usage)
    {
        var before = Snapshot();
        var (code, _, stderr) = CliRunner.Run(args);
        Assert.True(code == exit, $"exit {code}, expected {exit}: {stderr}");
        var last = stderr.Trim().Split('\n')[^1];
        Assert.Contains(option + ":", last);
        Assert.Contains(mentions, last);
        Assert.DoesNotContain("step 1/", stderr);
        var after = Snapshot();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (f, h) in before) Assert.True(h.SequenceEqual(after[f]), $"{f} changed");
    }

    [Fact] public void SaveLatentOverTheCheckpoint() => Refused(Generate("--out", P("o.png"), "--save-latent", _model), "--save-latent", "the --model file");
    [Fact] public void SaveLatentOverTheLayerModel() => Refused(Generate("--out", P("o.png"), "--save-latent", _layer), "--save-latent", "the --layer-model file");
    [Fact] public void JsonOverTheTokenizer() => Refused(Generate("--out", P("o.png"), "--json", _vocab), "--json", "the --tokenizer file");
    [Fact] public void JsonOverTheOutputPng() => Refused(Generate("--out", P("x.png"), "--json", P("x.png")), "--json", "the --out output");
    [Fact] public void SaveLatentOverTheOutputPng() => Refused(Generate("--out", P("x.png"), "--save-latent", P("x.png")), "--save-latent", "the --out output");
    [Fact] public void JsonOverTheVisPreview() => Refused(Generate("--out", P("x.png"), "--vis", "--json", P("x_vis.png")), "--json", "the --vis output");
    [Fact] public void JsonOverTheSecondImageOfABatch() => Refused(Generate("--out", P("x.png"), "--batch", "2", "--json", P("x-1.png")), "--json", "the --out output");
    [Fact] public void OutThroughALinkToTheCheckpoint()
    {
        File.CreateSymbolicLink(P("link.png"), _model);
        Refused(Generate("--out", P("link.png")), "--out", "the --model file");
    }

    [Fact] public void OutInALinkedFolderOverTheDecoder()
    {
        Directory.CreateSymbolicLink(P("view"), _dir);
        Refused(Generate("--out", P("o.png"), "--save-latent", Path.Combine(P("view"), "decoder.safetensors")), "--save-latent", "the --transparent-decoder file");
    }

    [Fact] public void Img2ImgOverItsInit() =>
        Refused(["img2img", .. Models, .. Small, "--init", _rgba, "--out", _rgba], "--out", "the --init file");

    [Fact] public void DecodeOverItsRgb()
    {
        string latent = P("latent.safetensors");
        new SafeTensorsWriter().Add("latent", [1, 4, 8, 8], new float[256]).Write(latent);
        Refused(["decode", "--rgb", _rgb, "--latent", latent, "--transparent-decoder", _decoder, "--out", _rgb, "--device", "cpu"], "--out", "the --rgb file");
    }

    [Fact] public void SaveLatentIntoAMissingFolder() =>
        Refused(Generate("--out", P("o.png"), "--save-latent", P("nope/l.safetensors")), "--save-latent", "does not exist", ExitCodes.FileAccess);

    [Fact] public void JsonIntoAMissingFolder() => Refused(Generate("--out", P("o.png"), "--json", P("nope/r.json")), "--json", "does not exist", ExitCodes.FileAccess);

    [Fact] public void UnwritableOut()
    {
        if (!OperatingSystem.IsLinux()) return;
        Refused(Generate("--out", "/sys/ld-test-output.png"), "--out", "cannot write", ExitCodes.FileAccess);
    }

    /// <summary>
    /// A full disk while the run writes its outputs (injected: the Nth staged file fails after 100 bytes). Whichever
    /// output it hits (--vis, --save-latent or --json), the run exits 2 naming that option, the earlier outputs are
    /// not kept, the previews that landed during sampling are taken back, and an older out.png is untouched.
    /// </summary>
    [Theory]
    [InlineData(3, "--out")]          // previews step 1 and 2 land first (staged files 1, 2), then the PNG
    [InlineData(4, "--vis")]
    [InlineData(5, "--save-latent")]
    [InlineData(6, "--json")]
    public void AFullDiskDuringTheWritesKeepsNothing(int failingFile, string option)
    {
        File.WriteAllText(P("o.png"), "an older image");
        var before = Snapshot();
        int code;
        string stderr;
        using (StagedFiles.InjectFaults(FailingStream.FailingAt(failingFile, budget: 100)))
            (code, _, stderr) = CliRunner.Run(Generate("--out", P("o.png"), "--vis", "--preview-every", "1", "--save-latent", P("l.safetensors"), "--json", P("r.json")));
        Assert.True(code == ExitCodes.FileAccess, $"exit {code}: {stderr}");
        var last = stderr.Trim().Split('\n')[^1];
        Assert.Contains(option + ":", last);
        Assert.Contains("No space left on device", last);
        var after = Snapshot();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.Equal("an older image", File.ReadAllText(P("o.png")));
    }

    [Fact]
    public void ASuccessfulRunLeavesOnlyItsOutputs()
    {
        var before = Snapshot().Keys.ToHashSet();
        var (code, stdout, stderr) = CliRunner.Run(Generate("--out", P("o.png"), "--vis", "--preview-every", "2", "--save-latent", P("l.safetensors"), "--json", P("r.json")));
        Assert.True(code == 0, stderr);
        var added = Snapshot().Keys.Where(f => !before.Contains(f)).Select(Path.GetFileName).Order();
        Assert.Equal(["l.safetensors", "o.png", "o_preview_step2.png", "o_vis.png", "r.json"], added);
        Assert.Contains(P("o.png"), stdout);
    }
}
