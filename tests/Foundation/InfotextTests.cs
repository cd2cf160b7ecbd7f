using LayerDiffusion.Native.Cli;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Sampling;
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

    public static TheoryData<string, string?> EverySamplerAndSchedule()
    {
        var data = new TheoryData<string, string?>();
        foreach (var sampler in SamplerKindExtensions.All)
        {
            data.Add(sampler.Name(), null);
            data.Add(sampler.ForgeLabel(), "Automatic");
            foreach (var schedule in Enum.GetValues<ScheduleKind>()) data.Add(sampler.Name(), schedule.Name());
        }
        return data;
    }

    /// <summary>
    /// Every sampler and schedule, written by `ld` and read by Forge's own parser and sampler/scheduler rules
    /// (<see cref="ForgeInfotext"/>): Forge runs what `ld` ran.
    /// </summary>
    [Theory]
    [MemberData(nameof(EverySamplerAndSchedule))]
    public void ForgeReadsBackTheSamplerAndScheduleThatRan(string sampler, string? schedule)
    {
        var s = new GenerationSettings { Prompt = "a, b: c", Negative = "bad", Sampler = sampler, Schedule = schedule, Steps = 9, Cfg = 6.5f, Seed = 4294967296, Rng = "CPU", Width = 832, Height = 1216 };
        var used = SamplerChoice.Parse(sampler, schedule);
        var text = GenerateCommand.InfotextFor(s, "model", s.Seed);
        var forge = ForgeInfotext.Parse(text);
        var (forgeSampler, forgeScheduler) = ForgeInfotext.Effective(forge);
        Assert.Equal(used.Sampler.ForgeLabel(), forgeSampler);
        // DDIM and UniPC ignore the schedule in both; for the rest Forge's scheduler must be ours (its "uniform" and
        // "normal", and the model's own get_sigmas where it has no scheduler, are our Normal).
        if (!used.Sampler.IsTimestepsSampler())
            Assert.Equal(used.Schedule, forgeScheduler is null ? ScheduleKind.Normal : ScheduleNames.Find(forgeScheduler));
        if (used.Schedule == ScheduleKind.Beta && !used.Sampler.IsTimestepsSampler())
            Assert.Equal(("0.6", "0.6"), (forge["Beta schedule alpha"], forge["Beta schedule beta"]));
        Assert.Equal(("a, b: c", "bad"), (forge["Prompt"], forge["Negative prompt"]));
        Assert.Equal(("9", "6.5", "4294967296", "CPU"), (forge["Steps"], forge["CFG scale"], forge["Seed"], forge["RNG"]));
        Assert.Equal(("832", "1216"), (forge["Size-1"], forge["Size-2"]));
    }

    [Theory]
    // An explicit schedule is written as what ran, not "Automatic" (which Forge reads as the sampler's default).
    [InlineData("DPM++ 2M", "normal", "Normal")]
    [InlineData("Euler", "normal", "Normal")]
    [InlineData("Euler", null, "Automatic")]
    [InlineData("DPM++ 2M", null, "Karras")]
    [InlineData("DPM++ 2M SDE", "automatic", "Exponential")]
    // The schedule in the sampler name wins over --schedule, as in Forge.
    [InlineData("DPM++ 2M SDE Karras", "normal", "Karras")]
    [InlineData("DPM++ 2M SDE Karras", null, "Karras")]
    [InlineData("UniPC", "karras", "Automatic")]
    public void ScheduleTypeIsWhatRan(string sampler, string? schedule, string written)
    {
        var s = new GenerationSettings { Sampler = sampler, Schedule = schedule };
        var (_, _, pars) = Infotext.Parse(GenerateCommand.InfotextFor(s, "model", s.Seed));
        Assert.Equal(written, pars["Schedule type"]);
        Assert.Equal(SamplerChoice.Parse(sampler).Sampler.ForgeLabel(), pars["Sampler"]);
    }

    [Fact]
    public void QuotedValuesAreJsonStringsAsForgeWritesThem()
    {
        string value = "tab\there, \"q\"\r\nline: \\ end\u0001";
        string text = Infotext.Format("p", "", [new("Steps", "1"), new("Seed", "2"), new("Note", value)]);
        Assert.Contains("Note: \"tab\\there, \\\"q\\\"\\r\\nline: \\\\ end\\u0001\"", text);
        Assert.Equal(value, Infotext.Parse(text).Parameters["Note"]);
        Assert.Equal(value, ForgeInfotext.Parse(text)["Note"]);
    }
}
