using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// Every workflow runs under --demo with nothing given: the built-in model brings the conv and layer models, the
/// transparent encoder and its own input images (a user's image still takes their place).
/// </summary>
public sealed class DemoWorkflowTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Fast = ["--width", "64", "--height", "64", "--steps", "2", "--quiet"];

    [Theory]
    [InlineData("fg2ble", 3, "True", "False", "False")]
    [InlineData("bg2ble", 3, "False", "True", "False")]
    [InlineData("fgble2bg", 3, "True", "False", "True")]
    [InlineData("bgble2fg", 4, "False", "True", "True")]
    public void LayerModesRunOnTheDemo(string mode, int channels, string fg, string bg, string blend)
    {
        string output = Path.Combine(_dir, mode + ".png");
        var (code, _, stderr) = CliRunner.Run(["layer", "--demo", "--mode", mode, "--out", output, .. Fast]);
        Assert.True(code == 0, stderr);
        var png = PngReader.Read(output);
        Assert.Equal((64, 64), (png.Width, png.Height));
        Assert.Equal(channels, png.Channels);
        var pars = Infotext.Parse(png.GetText("parameters")!).Parameters;
        Assert.Equal((fg, bg, blend), (pars["layerdiffusion_fg_image"], pars["layerdiffusion_bg_image"], pars["layerdiffusion_blend_image"]));
    }

    [Fact]
    public void Img2ImgAndConvRunOnTheDemo()
    {
        string output = Path.Combine(_dir, "i2i.png");
        var (code, _, stderr) = CliRunner.Run(["img2img", "--demo", "--out", output, "--steps", "2", "--quiet"]);
        Assert.True(code == 0, stderr);
        var png = PngReader.Read(output);
        // The demo's init image is 64x64: img2img takes its size.
        Assert.Equal((64, 64, 4), (png.Width, png.Height, png.Channels));

        string conv = Path.Combine(_dir, "conv.png");
        (code, _, stderr) = CliRunner.Run(["generate", "--demo", "--method", "conv", "--out", conv, .. Fast]);
        Assert.True(code == 0, stderr);
        Assert.Equal(LayerMethods.DisplayName(LayerMethod.Conv), Infotext.Parse(PngReader.Read(conv).GetText("parameters")!).Parameters["layerdiffusion_method"]);
    }

    [Fact]
    public void AUsersImageTakesThePlaceOfTheDemos()
    {
        string fg = CliFiles.WritePng(_dir, "fg.png", 4, 80, 72);
        string a = Path.Combine(_dir, "a.png"), b = Path.Combine(_dir, "b.png");
        var (code, _, stderr) = CliRunner.Run(["layer", "--demo", "--mode", "fg2ble", "--fg", fg, "--out", a, .. Fast]);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run(["layer", "--demo", "--mode", "fg2ble", "--out", b, .. Fast]);
        Assert.True(code == 0, stderr);
        Assert.NotEqual(PngReader.Read(a).Pixels, PngReader.Read(b).Pixels);
    }
}
