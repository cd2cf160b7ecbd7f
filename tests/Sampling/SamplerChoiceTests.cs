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
    [InlineData("DDIM", SamplerKind.Ddim, ScheduleKind.Normal)]
    // Forge's samplers_k_diffusion defaults: karras for DPM2, DPM2 a, DPM++ 2S a, DPM++ SDE; exponential for the 2M/3M SDEs.
    [InlineData("LMS", SamplerKind.Lms, ScheduleKind.Normal)]
    [InlineData("k_lms", SamplerKind.Lms, ScheduleKind.Normal)]
    [InlineData("Heun", SamplerKind.Heun, ScheduleKind.Normal)]
    [InlineData("DPM2", SamplerKind.Dpm2, ScheduleKind.Karras)]
    [InlineData("dpm_2", SamplerKind.Dpm2, ScheduleKind.Karras)]
    [InlineData("DPM2 a", SamplerKind.Dpm2Ancestral, ScheduleKind.Karras)]
    [InlineData("k_dpm_2_a", SamplerKind.Dpm2Ancestral, ScheduleKind.Karras)]
    [InlineData("DPM++ 2S a", SamplerKind.DpmPp2sAncestral, ScheduleKind.Karras)]
    [InlineData("DPM++ SDE", SamplerKind.DpmPpSde, ScheduleKind.Karras)]
    [InlineData("DPM++ 2M SDE Heun", SamplerKind.DpmPp2mSdeHeun, ScheduleKind.Exponential)]
    [InlineData("dpmpp_2m_sde_heun", SamplerKind.DpmPp2mSdeHeun, ScheduleKind.Exponential)]
    [InlineData("DPM++ 2M SDE Heun Karras", SamplerKind.DpmPp2mSdeHeun, ScheduleKind.Karras)]
    [InlineData("DPM++ 3M SDE", SamplerKind.DpmPp3mSde, ScheduleKind.Exponential)]
    [InlineData("LCM", SamplerKind.Lcm, ScheduleKind.Normal)]
    [InlineData("Euler a SGM Uniform", SamplerKind.EulerAncestral, ScheduleKind.SgmUniform)]
    [InlineData("euler_a_sgm_uniform", SamplerKind.EulerAncestral, ScheduleKind.SgmUniform)]
    [InlineData("DPM++ 2M Align Your Steps", SamplerKind.DpmPp2m, ScheduleKind.AlignYourSteps)]
    [InlineData("Euler Beta", SamplerKind.Euler, ScheduleKind.Beta)]
    [InlineData("euler simple", SamplerKind.Euler, ScheduleKind.Simple)]
    public void NamesAndAliases(string name, SamplerKind sampler, ScheduleKind schedule)
    {
        var c = SamplerChoice.Parse(name);
        Assert.Equal(sampler, c.Sampler);
        Assert.Equal(schedule, c.Schedule);
        Assert.Equal(c, SamplerChoice.Parse(name, "automatic"));
    }

    [Fact]
    public void ExplicitScheduleWinsOverTheDefault()
    {
        Assert.Equal(new SamplerChoice(SamplerKind.Euler, ScheduleKind.Karras), SamplerChoice.Parse("euler", "karras"));
        Assert.Equal(new SamplerChoice(SamplerKind.DpmPp2m, ScheduleKind.Normal), SamplerChoice.Parse("dpmpp_2m", "normal"));
        Assert.Equal(new SamplerChoice(SamplerKind.Euler, ScheduleKind.SgmUniform), SamplerChoice.Parse("euler", "SGM Uniform"));
        Assert.Equal(new SamplerChoice(SamplerKind.Euler, ScheduleKind.AlignYourSteps), SamplerChoice.Parse("euler", "Align Your Steps"));
        Assert.Equal(new SamplerChoice(SamplerKind.Euler, ScheduleKind.Normal), SamplerChoice.Parse("euler", "Uniform"));
        Assert.Equal(ScheduleKind.Beta, SamplerChoice.Parse("Euler", "BETA").Schedule);
    }

    [Fact]
    public void ScheduleInTheSamplerNameWinsAsInForge()
    {
        // Forge's get_sampler_and_scheduler: a schedule suffix on the sampler name replaces the scheduler argument.
        var c = SamplerChoice.Parse("DPM++ 2M SDE Karras", "normal");
        Assert.Equal(SamplerKind.DpmPp2mSde, c.Sampler);
        Assert.Equal(ScheduleKind.Karras, c.Schedule);
        Assert.False(c.Automatic);
        Assert.Equal("normal", c.IgnoredSchedule);
        Assert.Null(SamplerChoice.Parse("DPM++ 2M SDE Karras", "karras").IgnoredSchedule);
        Assert.Null(SamplerChoice.Parse("DPM++ 2M SDE Karras", "Automatic").IgnoredSchedule);
    }

    [Fact]
    public void AutomaticIsRememberedForTheInfotext()
    {
        Assert.True(SamplerChoice.Parse("euler").Automatic);
        Assert.True(SamplerChoice.Parse("DPM++ 2M", "automatic").Automatic);
        Assert.False(SamplerChoice.Parse("euler", "normal").Automatic);
        Assert.False(SamplerChoice.Parse("DPM++ 2M Karras").Automatic);
    }

    [Fact]
    public void UnknownSamplerListsTheChoices()
    {
        var e = Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse("plms"));
        Assert.Contains("plms", e.Message);
        foreach (var kind in SamplerKindExtensions.All) Assert.Contains(kind.Name(), e.Message);
        Assert.IsAssignableFrom<LdException>(e);
        Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse("karras"));
        Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse(""));
        Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse("euler_karras_karras"));
    }

    [Fact]
    public void UnknownScheduleListsTheChoices()
    {
        var e = Assert.Throws<InvalidOptionException>(() => SamplerChoice.Parse("euler", "turbo"));
        foreach (var kind in Enum.GetValues<ScheduleKind>()) Assert.Contains(kind.Name(), e.Message);
    }

    [Fact]
    public void StepsBelowOneAreErrors()
    {
        Assert.Throws<InvalidOptionException>(() => SamplerSettings.Parse("euler", null, 0));
        Assert.Throws<InvalidOptionException>(() => SamplerSettings.Parse("euler", null, -3));
        Assert.Equal(1, SamplerSettings.Parse("euler", null, 1).Steps);
    }
}
