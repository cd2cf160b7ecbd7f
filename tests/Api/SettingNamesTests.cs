using LayerDiffusion.Native.Cli;
using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.Api;

/// <summary>Engine errors name settings as the C# API spells them; the CLI renders them as its options.</summary>
public sealed class SettingNamesTests
{
    [Theory]
    [InlineData("Width", "--width")]
    [InlineData("StopAt", "--stop-at")]
    [InlineData("BatchCount", "--batch-count")]
    [InlineData("TransparentDecoder", "--transparent-decoder")]
    [InlineData("Foreground", "--fg")]
    [InlineData("Checkpoint", "--model")]
    [InlineData("--latent", "--latent")]
    [InlineData("chunk length", "chunk length")]
    public void SettingsAreSaidAsOptions(string setting, string option) => Assert.Equal(option, SettingNames.Option(setting));

    [Fact]
    public void SettingErrorsNameNoOptionUntilTheCliRendersThem()
    {
        var e = Assert.Throws<InvalidSettingException>(() => new GenerationSettings { StopAt = 2 }.Validate());
        Assert.Equal("StopAt: 2 is out of range [0, 1]", e.Message);
        Assert.Equal("--stop-at: 2 is out of range [0, 1]", SettingNames.Message(e));

        var missing = Assert.Throws<InvalidSettingException>(() => LayerPipeline.ConditionImages(LayerMethod.FgBle2Bg, new GenerationInputs()));
        Assert.Equal("Foreground", missing.Setting);
        Assert.StartsWith("--fg:", SettingNames.Message(missing));
    }
}
