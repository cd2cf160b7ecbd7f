using System.Text.Json;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// Forge's seed rules on the demo model: --seed -1 picks a random seed and records it, image i of a run (over
/// --batch-count × --batch) gets seed + i with no wrap-around, and an image is the same whatever batch made it.
/// Option values are taken in Forge's spelling too (--rng CPU, sampler and schedule labels).
/// </summary>
public sealed class SeedAndBatchCountTests
{
    private static (string Dir, string Output) Temp() { string dir = TestPaths.TempDir(); return (dir, Path.Combine(dir, "s.png")); }

    private static string[] Demo(string output, params string[] extra) =>
        ["generate", "--demo", "--out", output, "--width", "64", "--height", "64", "--steps", "2", "--quiet", .. extra];

    private static Dictionary<string, string> Parameters(string png) => Infotext.Parse(PngReader.Read(png).GetText("parameters")!).Parameters;

    [Fact]
    public void SeedMinusOnePicksARandomSeedAndRecordsIt()
    {
        var (dir, output) = Temp();
        string json = Path.Combine(dir, "run.json");
        var (code, _, stderr) = CliRunner.Run(Demo(output, "--seed", "-1", "--json", json));
        Assert.True(code == 0, stderr);
        long seed = long.Parse(Parameters(output)["Seed"]);
        Assert.InRange(seed, 0, 4294967293); // Forge: random.randrange(4294967294)
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(seed, doc.RootElement.GetProperty("seed").GetInt64());

        // The recorded seed reproduces the image.
        string again = Path.Combine(dir, "again.png");
        Assert.Equal(0, CliRunner.Run(Demo(again, "--seed", seed.ToString())).Code);
        Assert.Equal(PngReader.Read(output).Pixels, PngReader.Read(again).Pixels);
    }

    [Fact]
    public void BatchCountContinuesTheSeedsAndMatchesOneBigBatch()
    {
        var (dir, output) = Temp();
        var (code, stdout, stderr) = CliRunner.Run(Demo(output, "--seed", "4294967295", "--batch", "2", "--batch-count", "2",
            "--sampler", "DPM++ 2M SDE", "--rng", "CPU", "--preview-every", "2"));
        Assert.True(code == 0, stderr);
        var files = Enumerable.Range(0, 4).Select(i => Path.Combine(dir, $"s-{i}.png")).ToArray();
        foreach (var f in files) Assert.Contains(f, stdout);
        // Each run's previews are named for its images' places in the whole output.
        foreach (int i in new[] { 0, 1, 2, 3 }) Assert.True(File.Exists(Path.Combine(dir, $"s-{i}_preview_step2.png")), $"preview of image {i}");
        // Forge: seed + i over all images, past 2^32 − 1 without wrapping.
        Assert.Equal(["4294967295", "4294967296", "4294967297", "4294967298"], files.Select(f => Parameters(f)["Seed"]));
        Assert.All(files, f => Assert.Equal("CPU", Parameters(f)["RNG"]));

        // Per-image generators and Brownian trees: the same four images from one batch of four.
        string big = Path.Combine(dir, "big.png");
        Assert.Equal(0, CliRunner.Run(Demo(big, "--seed", "4294967295", "--batch", "4", "--sampler", "dpmpp_2m_sde", "--rng", "cpu")).Code);
        for (int i = 0; i < 4; i++)
            Assert.Equal(PngReader.Read(files[i]).Pixels, PngReader.Read(Path.Combine(dir, $"big-{i}.png")).Pixels);
    }

    [Theory]
    [InlineData("--seed", "-2")]
    [InlineData("--batch-count", "0")]
    [InlineData("--batch-count", "101")]
    [InlineData("--rng", "nv")]
    public void OutOfRangeValuesNameTheirOption(string option, string value)
    {
        var (_, output) = Temp();
        var (code, _, stderr) = CliRunner.Run(Demo(output, option, value));
        Assert.NotEqual(0, code);
        Assert.Contains(option, stderr);
    }

    [Fact]
    public void TheLastImagesSeedMustStayInRange()
    {
        var (_, output) = Temp();
        var (code, _, stderr) = CliRunner.Run(Demo(output, "--seed", long.MaxValue.ToString(), "--batch", "2"));
        Assert.NotEqual(0, code);
        Assert.Contains("--seed", stderr);
        Assert.Contains("seed + i", stderr);
    }

    [Fact]
    public void ASamplerNamingItsScheduleWinsOverScheduleAndSaysSo()
    {
        var (_, output) = Temp();
        var (code, _, stderr) = CliRunner.Run(["generate", "--demo", "--out", output, "--width", "64", "--height", "64", "--steps", "2",
            "--sampler", "DPM++ 2M SDE Karras", "--schedule", "normal"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("--schedule normal ignored", stderr);
        var pars = Parameters(output);
        Assert.Equal(("DPM++ 2M SDE", "Karras"), (pars["Sampler"], pars["Schedule type"]));
    }
}
