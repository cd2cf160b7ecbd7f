using LayerDiffusion.Native.Cli;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// Every mistake a user can make on the command line is one line on stderr that names the option or file, exit code
/// 2, and no stack trace; nothing is written.
/// </summary>
public sealed class CliUsageErrorTests
{
    private static readonly string Dir = TestPaths.TempDir();
    private static readonly string Rgba = CliFiles.WritePng(Dir, "rgba.png", 4);
    private static readonly string Rgb = CliFiles.WritePng(Dir, "rgb.png", 3);
    private static readonly string NotPng = WriteBytes("not-a-png.png", "this is text, not a PNG"u8.ToArray());
    private static readonly string Truncated = WriteBytes("truncated.png", File.ReadAllBytes(Rgba)[..60]);
    private static readonly string Missing = Path.Combine(Dir, "missing.png");
    private static readonly string Out = Path.Combine(Dir, "out.png");

    private static string WriteBytes(string name, byte[] bytes)
    {
        string path = Path.Combine(Dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string[] Generate(params string[] extra) => ["generate", "--demo", "--out", Out, .. CliFiles.Small, .. extra];
    private static string[] Img2Img(params string[] extra) =>
        ["img2img", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--out", Out, .. CliFiles.Small, .. extra];
    private static string[] Layer(string mode, params string[] extra) =>
        ["layer", "--mode", mode, .. CliFiles.ModelArgs("patch_layer_2cond.safetensors"), "--out", Out, .. CliFiles.Small, .. extra];

    public static TheoryData<string, string[], string[]> Mistakes()
    {
        var d = new TheoryData<string, string[], string[]>();
        void Add(string name, string[] args, params string[] mentions) => d.Add(name, args, mentions);
        Add("unknown option", Generate("--bogus", "1"), "--bogus");
        Add("unknown flag on img2img", Img2Img("--init", Rgba, "--mode", "fg2ble"), "--mode");
        Add("option without value", Generate("--seed"), "--seed");
        Add("missing checkpoint", ["generate", "--model", Missing, "--tokenizer", CliFiles.Vocab, "--out", Out], "--model", Missing);
        Add("missing layer model", ["generate", "--model", TestPaths.Golden("tiny_sdxl.safetensors"), "--tokenizer", CliFiles.Vocab,
            "--layer-model", Missing, "--out", Out], "--layer-model", Missing);
        Add("width not a multiple of 8", Generate("--width", "100"), "--width", "multiple of 8");
        Add("height not a multiple of 8", Generate("--height", "65"), "--height", "multiple of 8");
        Add("steps zero", Generate("--steps", "0"), "--steps");
        Add("steps not a number", Generate("--steps", "many"), "--steps", "many");
        Add("seed not a number", Generate("--seed", "abc"), "--seed", "abc");
        Add("weight too high", Generate("--weight", "5"), "--weight");
        Add("weight too low", Generate("--weight", "-2"), "--weight");
        Add("stop-at above 1", Generate("--stop-at", "1.5"), "--stop-at");
        Add("stop-at below 0", Generate("--stop-at", "-0.1"), "--stop-at");
        Add("preview-every zero", Generate("--preview-every", "0"), "--preview-every");
        Add("output not a png", Generate("--out", Path.Combine(Dir, "x.jpg")), "--out", "x.jpg");
        Add("unknown sampler", Generate("--sampler", "nope"), "nope");
        Add("decoder batch too large", Generate("--decoder-batch", "9"), "--decoder-batch");
        Add("precision unknown", Generate("--precision", "fp8"), "--precision", "fp8");
        Add("denoise zero", Img2Img("--init", Rgba, "--denoise", "0"), "--denoise");
        Add("denoise above 1", Img2Img("--init", Rgba, "--denoise", "1.5"), "--denoise");
        Add("denoise not a number", Img2Img("--init", Rgba, "--denoise", "half"), "--denoise", "half");
        Add("img2img without init", Img2Img(), "--init");
        Add("init missing", Img2Img("--init", Missing), "--init", Missing);
        Add("init not a png", Img2Img("--init", NotPng), "--init", NotPng);
        Add("init truncated", Img2Img("--init", Truncated), "--init", Truncated);
        Add("unipc img2img denoise leaving no step", Img2Img("--init", Rgba, "--sampler", "unipc", "--steps", "4", "--denoise", "0.2"), "--denoise", "UniPC");
        Add("img2img with a layer method", Img2Img("--init", Rgba, "--method", "fg2ble"), "--method");
        Add("layer without mode", ["layer", "--out", Out], "--mode");
        Add("layer unknown mode", Layer("fg2bg"), "--mode", "fg2bg");
        Add("fgble2bg without images", Layer("fgble2bg"), "--fg");
        Add("fgble2bg without blend", Layer("fgble2bg", "--fg", Rgba), "--blend");
        Add("bgble2fg without background", Layer("bgble2fg", "--blend", Rgb), "--bg");
        Add("fg not a png", Layer("fgble2bg", "--fg", NotPng, "--blend", Rgb), "--fg", NotPng);
        Add("blend missing", Layer("fgble2bg", "--fg", Rgba, "--blend", Missing), "--blend", Missing);
        Add("decode without latent", ["decode", "--rgb", Rgb, "--transparent-decoder", TestPaths.Golden("tiny_transparent_decoder.safetensors")], "--latent");
        return d;
    }

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void IsOneLineNamingTheOptionAndItsExitCode(string name, string[] args, string[] mentions)
    {
        if (File.Exists(Out)) File.Delete(Out);
        var (code, stdout, stderr) = CliRunner.Run(args);
        // A file that is not there or not an image is a file error (3); everything else here is a usage error (2).
        int expected = name.Contains("missing") || (name.Contains("not a png") && !name.StartsWith("output")) || name.Contains("truncated") ? ExitCodes.FileAccess : ExitCodes.Usage;
        Assert.True(code == expected, $"{name}: exit {code} (expected {expected}), stderr: {stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Device selection may log one line before the error; the error is the last line.
        Assert.True(lines.Length is 1 or 2, $"{name}: {lines.Length} lines on stderr:\n{stderr}");
        Assert.StartsWith("ld ", lines[^1]);
        foreach (var m in mentions) Assert.Contains(m, lines[^1]);
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.DoesNotContain("internal error", stderr);
        Assert.False(File.Exists(Out), $"{name}: an output was written");
    }
}
