using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

public sealed class InfotextTests
{
    [Fact]
    public void FormatsA1111LayoutAndParsesBack()
    {
        var pars = new List<KeyValuePair<string, string>>
        {
            new("Steps", "20"), new("Sampler", "DPM++ 2M SDE"), new("Schedule type", "Karras"), new("CFG scale", "5"),
            new("Seed", "12345"), new("Size", "1024x1024"), new("Model", "juggernautXL_v6"),
            new("layerdiffusion_enabled", "True"),
            new("layerdiffusion_method", "(SDXL) Only Generate Transparent Image (Attention Injection)"),
            new("layerdiffusion_weight", "1"), new("layerdiffusion_ending_step", "1"),
            new("Note", "a, b: \"quoted\""),
        };
        string text = Infotext.Format("glass bottle, (high quality:1.2)\nsecond line", "bad, ugly", pars);
        Assert.StartsWith("glass bottle, (high quality:1.2)\nsecond line\nNegative prompt: bad, ugly\nSteps: 20, Sampler: DPM++ 2M SDE, Schedule type: Karras, CFG scale: 5", text);
        var (prompt, negative, back) = Infotext.Parse(text);
        Assert.Equal("glass bottle, (high quality:1.2)\nsecond line", prompt);
        Assert.Equal("bad, ugly", negative);
        foreach (var kv in pars) Assert.Equal(kv.Value, back[kv.Key]);
    }

    [Fact]
    public void EmptyNegativeIsOmitted()
    {
        string text = Infotext.Format("an apple", "", [new("Steps", "8"), new("Seed", "1"), new("Size", "64x64")]);
        Assert.Equal("an apple\nSteps: 8, Seed: 1, Size: 64x64", text);
        var (p, n, pars) = Infotext.Parse(text);
        Assert.Equal("an apple", p);
        Assert.Equal("", n);
        Assert.Equal("64x64", pars["Size"]);
    }
}
