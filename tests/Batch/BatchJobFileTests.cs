using LayerDiffusion.Native.Cli;
using Xunit;

namespace LayerDiffusion.Native.Tests.Batch;

/// <summary>A job line as the arguments of its command: defaults, overrides, flags, repeatable options, output names.</summary>
public sealed class BatchJobFileTests
{
    private static readonly Dictionary<string, string?> Defaults = new() { ["--demo"] = null, ["--steps"] = "2", ["--lora"] = "d.safetensors" };

    [Fact]
    public void JobKeysOverrideTheDefaultsAsOptions()
    {
        var job = BatchJobFile.Parse(3, 2, "{\"steps\": 4, \"prompt\": \"--not an option\", \"demo\": false, \"vis\": true, \"lora\": [\"a.safetensors:0.5\", \"b.safetensors\"]}", Defaults, "outdir");
        Assert.Null(job.Error);
        Assert.Equal("generate", job.Command);
        Assert.Equal(["--lora", "a.safetensors:0.5", "--lora", "b.safetensors", "--out", Path.Combine("outdir", "line-00003.png"),
            "--prompt", "--not an option", "--steps", "4", "--vis"], job.Args);
        Assert.Equal(Path.Combine("outdir", "line-00003.ld-job.json"), job.RecordPath);
    }

    [Fact]
    public void TheSettingsHashFollowsTheSettingsOnly()
    {
        string Hash(string line, int number = 1) => BatchJobFile.Parse(number, 0, line, Defaults, "o").SettingsHash;
        Assert.Equal(Hash("{\"seed\": 1, \"steps\": 3}"), Hash("{\"steps\": 3, \"seed\": 1, \"quiet\": true}"));
        Assert.NotEqual(Hash("{\"seed\": 1}"), Hash("{\"seed\": 2}"));
        Assert.NotEqual(Hash("{\"seed\": 1}"), Hash("{\"seed\": 1, \"command\": \"img2img\"}"));
    }

    [Theory]
    [InlineData("{\"lora\": [1]}", "lora:")]
    [InlineData("{\"steps\": [1]}", "steps:")]
    [InlineData("{\"prompt\": {\"a\": 1}}", "prompt:")]
    [InlineData("[1, 2]", "a job is a JSON object")]
    [InlineData("{\"help\": true}", "help:")]
    public void MalformedJobsSayWhatIsWrong(string line, string error) =>
        Assert.StartsWith(error, BatchJobFile.Parse(1, 0, line, Defaults, "o").Error);
}
