using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

public sealed class SamplerChoiceTests
{
    [Theory]
    [InlineData("euler", SamplerKind.Euler, ScheduleKind.Normal)]
    [InlineData("Euler", SamplerKind.Euler, ScheduleKind.Normal)]
    [InlineData("euler_a", SamplerKind.EulerAncestral, ScheduleKind.Normal)]
    [InlineData("Euler a", SamplerKind.EulerAncestral, ScheduleKind.Normal)]
    [InlineData("k_euler_a", SamplerKind.EulerAncestral, ScheduleKind.Normal)]
    [InlineData("dpmpp_2m", SamplerKind.DpmPp2m, ScheduleKind.Karras)]
    [InlineData("DPM++ 2M", SamplerKind.DpmPp2m, ScheduleKind.Karras)]
    [InlineData("DPM++ 2M Karras", SamplerKind.DpmPp2m, ScheduleKind.Karras)]
    [InlineData("dpmpp_2m_karras", SamplerKind.DpmPp2m, ScheduleKind.Karras)]
    [InlineData("dpmpp_2m_sde", SamplerKind.DpmPp2mSde, ScheduleKind.Exponential)]
    [InlineData("DPM++ 2M SDE", SamplerKind.DpmPp2mSde, ScheduleKind.Exponential)]
    [InlineData("DPM++ 2M SDE Karras", SamplerKind.DpmPp2mSde, ScheduleKind.Karras)]
    [InlineData("  dpm++ 2m sde karras ", SamplerKind.DpmPp2mSde, ScheduleKind.Karras)]
    [InlineData("dpmpp_2m_sde_karras", SamplerKind.DpmPp2mSde, ScheduleKind.Karras)]
    [InlineData("DPM++ 2M SDE Exponential", SamplerKind.DpmPp2mSde, ScheduleKind.Exponential)]
    [InlineData("UniPC", SamplerKind.UniPc, ScheduleKind.Normal)]
    [InlineData("unipc", SamplerKind.UniPc, ScheduleKind.Normal)]
    public void NamesAndAliases(string name, SamplerKind sampler, ScheduleKind schedule)
    {
        var c = SamplerChoice.Parse(name);
        Assert.Equal(sampler, c.Sampler);
        Assert.Equal(schedule, c.Schedule);
        Assert.Equal(c, SamplerChoice.Parse(name, "automatic"));
    }

    [Fact]
    public void ExplicitScheduleWins()
    {
        Assert.Equal(new SamplerChoice(SamplerKind.Euler, ScheduleKind.Karras), SamplerChoice.Parse("euler", "karras"));
        Assert.Equal(new SamplerChoice(SamplerKind.DpmPp2mSde, ScheduleKind.Exponential), SamplerChoice.Parse("DPM++ 2M SDE Karras", "Exponential"));
        Assert.Equal(new SamplerChoice(SamplerKind.DpmPp2m, ScheduleKind.Normal), SamplerChoice.Parse("dpmpp_2m", "normal"));
    }

    [Fact]
    public void UnknownSamplerListsTheChoices()
    {
        var e = Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse("ddim"));
        Assert.Contains("ddim", e.Message);
        foreach (var name in new[] { "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_sde", "unipc" }) Assert.Contains(name, e.Message);
        Assert.IsAssignableFrom<LdException>(e);
        Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse("karras"));
        Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse(""));
        Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse("euler_karras_karras"));
    }

    [Fact]
    public void UnknownScheduleListsTheChoices()
    {
        var e = Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse("euler", "beta"));
        foreach (var name in new[] { "normal", "karras", "exponential" }) Assert.Contains(name, e.Message);
    }

    [Fact]
    public void StepsBelowOneAreErrors()
    {
        Assert.Throws<InvalidOptionException>(() => SamplerSettings.Parse("euler", null, 0));
        Assert.Throws<InvalidOptionException>(() => SamplerSettings.Parse("euler", null, -3));
        Assert.Equal(1, SamplerSettings.Parse("euler", null, 1).Steps);
    }
}
