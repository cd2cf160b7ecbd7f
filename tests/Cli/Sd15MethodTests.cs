using System.Text.Json;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Verify;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// The SD1.5 attention-sharing methods from the command line on the golden-sd15 tiny files: the two end-to-end
/// golden cases rebuilt as `ld generate --method sd15-joint` and `ld layer --mode sd15-fg2bg` from their settings
/// (one file per frame, RGBA where the extension transparent-decodes, within the manifest's byte tolerance), the
/// other two methods' files and infotext, and the errors of a method used with the wrong checkpoint, file or image.
/// </summary>
public sealed class Sd15MethodTests
{
    private static string[] Models(string patch) => [.. CliFiles.Sd15ModelArgs(patch), "--device", "cpu", "--quiet"];

    /// <summary>
    /// The CLI options of an e2e case's settings (prompts, seed, sampling, size, --batch in groups of frames); the
    /// additional prompts of the method's frame roles only (the CLI refuses the ones the extension's UI hides).
    /// </summary>
    private static string[] SettingsArgs(JsonElement s, LayerMethod method)
    {
        string Str(string k) => s.GetProperty(k).GetString()!;
        string Num(string k) => s.GetProperty(k).GetRawText();
        var roles = LayerMethods.FrameRoles(method);
        int frames = roles.Length;
        string[] Prompt(FrameRole role, string option, string key) => roles.Contains(role) ? [option, Str(key)] : [];
        return
        [
            "--prompt", Str("prompt"), "--negative", Str("negative"),
            .. Prompt(FrameRole.Foreground, "--fg-prompt", "fg_additional_prompt"), .. Prompt(FrameRole.Background, "--bg-prompt", "bg_additional_prompt"),
            .. Prompt(FrameRole.Blend, "--blend-prompt", "blend_additional_prompt"),
            "--seed", Num("seed"), "--rng", Str("rng"), "--width", Num("width"), "--height", Num("height"), "--steps", Num("steps"),
            "--cfg", Num("cfg"), "--sampler", Str("sampler"), "--schedule", Str("schedule"), "--stop-at", Num("stop_at"),
            "--batch", (s.GetProperty("batch").GetInt32() / frames).ToString(),
        ];
    }

    private static GoldenCase Case(string name) => GoldenManifest.Load(TestPaths.GoldenSd15Dir).Find(name)!;

    /// <summary>Max |a − b| over two byte arrays of the same length.</summary>
    private static int MaxDiff(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        Assert.Equal(a.Length, b.Length);
        int max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    private static double Tol(GoldenCase c, string output) => c.Outputs.First(o => o.Name == output).Tolerance.MaxAbs;

    [Fact]
    public void JointFromTheCliMatchesTheGoldenEndToEndCase()
    {
        var c = Case("sd15_e2e_joint");
        string dir = TestPaths.TempDir(), output = Path.Combine(dir, "j.png");
        var (code, stdout, stderr) = CliRunner.Run(["generate", "--method", "sd15-joint", .. Models("layer_sd15_joint.safetensors"),
            .. SettingsArgs(c.Settings, LayerMethod.Sd15Joint), "--out", output, "--vis"]);
        Assert.True(code == 0, stderr);
        using var reference = SafeTensorsFile.Open(c.FilePath);
        var rgb = reference.ReadBytesU8("rgb_uint8");
        int plane = rgb.Length / 3;
        for (int i = 0; i < 3; i++)
        {
            string file = Path.Combine(dir, $"j-{i}.png");
            Assert.Contains(file, stdout);
            var png = PngReader.Read(file);
            if (i == 0)
            {
                // The fg frame is transparent-decoded (index % 3 == 0): RGBA, and its checkerboard preview with --vis.
                Assert.Equal(4, png.Channels);
                Assert.InRange(MaxDiff(png.Pixels, reference.ReadBytesU8("png_rgba")), 0, Tol(c, "png_rgba"));
                Assert.InRange(MaxDiff(PngReader.Read(Path.Combine(dir, "j-0_vis.png")).Pixels, reference.ReadBytesU8("vis_rgb")), 0, Tol(c, "vis_rgb"));
            }
            else
            {
                Assert.Equal(3, png.Channels);
                Assert.InRange(MaxDiff(png.Pixels, rgb.AsSpan(i * plane, plane)), 0, Tol(c, "rgb_uint8"));
            }
        }
        Assert.False(File.Exists(Path.Combine(dir, "j-1_vis.png")));
        var p = Infotext.Parse(PngReader.Read(Path.Combine(dir, "j-1.png")).GetText("parameters")!).Parameters;
        Assert.Equal("(SD1.5) Generate Everything Together (need batch size 3)", p["layerdiffusion_method"]);
        Assert.Equal(c.Settings.GetProperty("bg_additional_prompt").GetString(), p["layerdiffusion_bg_additional_prompt"]);
        Assert.Equal((c.Settings.GetProperty("seed").GetInt64() + 1).ToString(), p["Seed"]);
    }

    [Fact]
    public void Fg2BgFromTheCliMatchesTheGoldenEndToEndCase()
    {
        var c = Case("sd15_e2e_fg2bg");
        string dir = TestPaths.TempDir(), output = Path.Combine(dir, "f.png");
        using var reference = SafeTensorsFile.Open(c.FilePath);
        string fgName = c.Settings.GetProperty("control_image").GetString()!;
        var fgShape = reference.Info(fgName).Shape;
        string fg = Path.Combine(dir, "fg.png");
        PngWriter.Write(fg, reference.ReadBytesU8(fgName), fgShape[1], fgShape[0], 4);
        var (code, _, stderr) = CliRunner.Run(["layer", "--mode", "sd15-fg2bg", "--fg", fg, .. Models("layer_sd15_fg2bg.safetensors"),
            .. SettingsArgs(c.Settings, LayerMethod.Sd15Fg2Bg), "--out", output]);
        Assert.True(code == 0, stderr);
        var rgb = reference.ReadBytesU8("rgb_uint8");
        int plane = rgb.Length / 2;
        for (int i = 0; i < 2; i++)
        {
            // fg2bg frames (bg, blend) are never transparent-decoded.
            var png = PngReader.Read(Path.Combine(dir, $"f-{i}.png"));
            Assert.Equal(3, png.Channels);
            Assert.InRange(MaxDiff(png.Pixels, rgb.AsSpan(i * plane, plane)), 0, Tol(c, "rgb_uint8"));
        }
        var p = Infotext.Parse(PngReader.Read(Path.Combine(dir, "f-0.png")).GetText("parameters")!).Parameters;
        Assert.Equal("True", p["layerdiffusion_fg_image"]);
        Assert.Equal("False", p["layerdiffusion_bg_image"]);
    }

    [Fact]
    public void TransparentAttnAndBg2FgWriteOneFilePerFrame()
    {
        string dir = TestPaths.TempDir();
        string[] small = ["--width", "64", "--height", "64", "--steps", "2", "--sampler", "euler", "--prompt", "a cup"];
        var (code, _, stderr) = CliRunner.Run(["generate", "--method", "sd15-attn", .. Models("layer_sd15_transparent_attn.safetensors"), .. small,
            "--batch", "2", "--out", Path.Combine(dir, "a.png")]);
        Assert.True(code == 0, stderr);
        foreach (int i in new[] { 0, 1 }) Assert.Equal(4, PngReader.Read(Path.Combine(dir, $"a-{i}.png")).Channels);

        string bg = CliFiles.WritePng(dir, "bg.png", 4, 96, 80); // fitted to the generation size (crop and resize)
        (code, _, stderr) = CliRunner.Run(["layer", "--mode", "sd15-bg2fg", "--bg", bg, "--fg-prompt", "a glass cup", .. Models("layer_sd15_bg2fg.safetensors"),
            .. small, "--out", Path.Combine(dir, "b.png")]);
        Assert.True(code == 0, stderr);
        Assert.Equal(4, PngReader.Read(Path.Combine(dir, "b-0.png")).Channels); // the fg frame
        Assert.Equal(3, PngReader.Read(Path.Combine(dir, "b-1.png")).Channels); // the blend
        Assert.False(File.Exists(Path.Combine(dir, "b-2.png")));
    }

    /// <summary>
    /// Frame prompts of more 75-token chunks than the prompt (and a negative prompt longer than the prompt) run: the
    /// shorter context is repeated to a common length as Forge batches conds of different lengths; the long
    /// foreground prompt reaches the foreground frame only.
    /// </summary>
    [Fact]
    public void FramePromptsLongerThanThePromptRun()
    {
        string dir = TestPaths.TempDir();
        string longFg = string.Join(", ", Enumerable.Range(0, 40).Select(i => $"glass cup {i}")); // well over 75 tokens
        string[] Args(string fgPrompt, string negative, string name) =>
            ["generate", "--method", "sd15-joint", .. Models("layer_sd15_joint.safetensors"), "--width", "64", "--height", "64", "--steps", "2",
             "--sampler", "euler", "--seed", "3", "--prompt", "a cup on a table", "--negative", negative, "--fg-prompt", fgPrompt,
             "--bg-prompt", "a table", "--out", Path.Combine(dir, name)];
        foreach (var (fg, negative, name) in new[] { (longFg, "bad", "long.png"), ("a cup", "bad", "short.png"), ("a cup", longFg, "negative.png") })
        {
            var (code, _, stderr) = CliRunner.Run(Args(fg, negative, name));
            Assert.True(code == 0, stderr);
        }
        byte[] Frame(string name, int i) => PngReader.Read(Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(name)}-{i}.png")).Pixels;
        Assert.NotEqual(Frame("long.png", 0), Frame("short.png", 0));
        var p = Infotext.Parse(PngReader.Read(Path.Combine(dir, "long-0.png")).GetText("parameters")!).Parameters;
        Assert.Equal(longFg, p["layerdiffusion_fg_additional_prompt"]);
    }

    [Fact]
    public void WrongCheckpointFileOrImageIsAClearError()
    {
        string dir = TestPaths.TempDir(), output = Path.Combine(dir, "e.png");
        string[] small = ["--width", "64", "--height", "64", "--steps", "1", "--out", output];
        // An SD1.5 method on the SDXL checkpoint.
        var (code, _, stderr) = CliRunner.Run(["generate", "--method", "sd15-joint", "--model", TestPaths.Golden("tiny_sdxl.safetensors"),
            "--tokenizer", CliFiles.Vocab, "--layer-model", TestPaths.GoldenSd15("layer_sd15_joint.safetensors"), "--device", "cpu", "--quiet", .. small]);
        Assert.NotEqual(0, code);
        Assert.Contains("SD1.5", stderr);
        // The joint file for fg2bg.
        string fg = CliFiles.WritePng(dir, "fg.png", 4);
        (code, _, stderr) = CliRunner.Run(["layer", "--mode", "sd15-fg2bg", "--fg", fg, .. Models("layer_sd15_joint.safetensors"), .. small]);
        Assert.NotEqual(0, code);
        Assert.Contains("3 frames", stderr);
        // bg2fg without its background, and an image method under generate.
        (code, _, stderr) = CliRunner.Run(["layer", "--mode", "sd15-bg2fg", .. Models("layer_sd15_bg2fg.safetensors"), .. small]);
        Assert.Equal(2, code);
        Assert.Contains("--bg", stderr);
        (code, _, stderr) = CliRunner.Run(["generate", "--method", "sd15-fg2bg", .. Models("layer_sd15_fg2bg.safetensors"), .. small]);
        Assert.Equal(2, code);
        Assert.Contains("ld layer", stderr);
        Assert.False(File.Exists(output));
    }
}
