using System.Text.Json;
using LayerDiffusion.Native.Imaging.Png;
using Xunit;

namespace LayerDiffusion.Native.Tests.Batch;

/// <summary>
/// `ld batch` on the demo model at 64x64, 2 steps: shards over one file into one folder run every job once, a rerun
/// skips finished jobs (and reruns changed or incomplete ones), a bad line is reported while the rest run, and a
/// batch job's image is the image `ld generate` makes with the same settings (models kept between jobs change nothing).
/// </summary>
public sealed class BatchCommandTests
{
    private static readonly string[] Defaults = ["--demo", "--steps", "2", "--width", "64", "--height", "64", "--quiet"];

    private static (int Code, string Stderr) Batch(string jobs, string dir, params string[] extra)
    {
        var (code, _, stderr) = CliRunner.Run(["batch", jobs, "--out-dir", dir, .. Defaults, .. extra]);
        return (code, stderr);
    }

    private static string Jobs(string dir, params string[] lines)
    {
        string path = Path.Combine(dir, "jobs.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static List<JsonElement> Results(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public void TwoShardsOverOneFileRunEveryJobExactlyOnce()
    {
        string dir = TestPaths.TempDir();
        var lines = Enumerable.Range(0, 5).Select(i => $"{{\"prompt\": \"job {i}\", \"seed\": {i}}}").ToArray();
        string jobs = Jobs(dir, lines);
        var (c0, e0) = Batch(jobs, dir, "--shard", "0/2");
        var (c1, e1) = Batch(jobs, dir, "--shard", "1/2");
        Assert.True(c0 == 0, e0);
        Assert.True(c1 == 0, e1);

        var results = Results(Path.Combine(dir, "results.shard-0-of-2.jsonl")).Concat(Results(Path.Combine(dir, "results.shard-1-of-2.jsonl"))).ToList();
        Assert.Equal([1, 2, 3, 4, 5], results.Select(r => r.GetProperty("line").GetInt32()).Order());
        Assert.All(results, r => Assert.Equal("ok", r.GetProperty("status").GetString()));
        // Shard 0 took jobs 0, 2, 4 (lines 1, 3, 5); each shard loaded the models once for all of its jobs.
        Assert.Equal([1, 3, 5], Results(Path.Combine(dir, "results.shard-0-of-2.jsonl")).Select(r => r.GetProperty("line").GetInt32()));
        Assert.Contains("model set 1", e0);
        Assert.DoesNotContain("model set 2", e0);
        for (int line = 1; line <= 5; line++)
        {
            Assert.True(File.Exists(Path.Combine(dir, $"line-{line:D5}.png")), $"line {line}'s image");
            Assert.True(File.Exists(Path.Combine(dir, $"line-{line:D5}.ld-job.json")), $"line {line}'s record");
        }
        Assert.Empty(Directory.GetFiles(dir, "*.ld-partial-*"));
    }

    [Fact]
    public void ARerunSkipsFinishedJobsAndRunsChangedOrIncompleteOnes()
    {
        string dir = TestPaths.TempDir();
        string jobs = Jobs(dir, "{\"seed\": 1}", "{\"seed\": 2, \"out\": \"two.png\"}", "{\"seed\": 3}");
        Assert.Equal(0, Batch(jobs, dir).Code);
        string one = Path.Combine(dir, "line-00001.png"), three = Path.Combine(dir, "line-00003.png");
        var firstWrite = File.GetLastWriteTimeUtc(one);

        // As a batch killed before its last job: that job's image is missing (its record alone does not count).
        File.Delete(three);
        // And the second job was edited since.
        Jobs(dir, "{\"seed\": 1}", "{\"seed\": 5, \"out\": \"two.png\"}", "{\"seed\": 3}");
        string results = Path.Combine(dir, "rerun.jsonl");
        var (code, stderr) = Batch(jobs, dir, "--results", results);
        Assert.True(code == 0, stderr);
        Assert.Equal(["skipped", "ok", "ok"], Results(results).Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(firstWrite, File.GetLastWriteTimeUtc(one));
        Assert.True(File.Exists(three));
        Assert.Equal("5", PngParameters(Path.Combine(dir, "two.png"))["Seed"]);

        // A third run has nothing left to do.
        Assert.Equal(0, Batch(jobs, dir, "--results", results).Code);
        Assert.Equal(["skipped", "skipped", "skipped"], Results(results).Skip(3).Select(r => r.GetProperty("status").GetString()));
    }

    [Fact]
    public void BadLinesAreReportedAndTheOtherJobsRun()
    {
        string dir = TestPaths.TempDir();
        string jobs = Jobs(dir,
            "{\"seed\": 1}",
            "not json",
            "{\"stpes\": 2}",
            "{\"width\": 70}",
            "{\"vis\": \"yes\"}",
            "{\"command\": \"decode\"}",
            "{\"seed\": 2, \"out\": \"line-00001.png\"}",
            "{\"seed\": 3}");
        var (code, stderr) = Batch(jobs, dir);
        Assert.Equal(2, code);
        var results = Results(Path.Combine(dir, "results.jsonl"));
        Assert.Equal(["ok", "failed", "failed", "failed", "failed", "failed", "failed", "ok"], results.Select(r => r.GetProperty("status").GetString()));
        string Error(int i) => results[i].GetProperty("error").GetString()!;
        Assert.Contains("not valid JSON", Error(1));
        Assert.StartsWith("stpes:", Error(2));
        Assert.StartsWith("--width:", Error(3));
        Assert.StartsWith("vis:", Error(4));
        Assert.StartsWith("command:", Error(5));
        Assert.Contains("line 1", Error(6));
        Assert.True(File.Exists(Path.Combine(dir, "line-00008.png")), stderr);
    }

    [Fact]
    public void ABatchJobMakesTheSameImageAsLdGenerate()
    {
        string dir = TestPaths.TempDir();
        // Two jobs through the same models, the second at another layer weight (a second merge) and seed.
        string jobs = Jobs(dir, "{\"seed\": 11, \"prompt\": \"first\"}", "{\"seed\": 12, \"weight\": 0.5, \"sampler\": \"euler_a\", \"out\": \"b.png\"}");
        Assert.Equal(0, Batch(jobs, dir).Code);
        string alone = Path.Combine(dir, "alone.png");
        var (code, _, stderr) = CliRunner.Run(["generate", "--out", alone, "--seed", "12", "--weight", "0.5", "--sampler", "euler_a", .. Defaults]);
        Assert.True(code == 0, stderr);
        Assert.Equal(PngReader.Read(alone).Pixels, PngReader.Read(Path.Combine(dir, "b.png")).Pixels);
    }

    [Fact]
    public void BatchOptionsAreCheckedBeforeAnyJob()
    {
        string dir = TestPaths.TempDir();
        string jobs = Jobs(dir, "{}");
        Assert.Contains("--out:", CliRunner.Run("batch", jobs, "--demo", "--out", "x.png").Stderr);
        Assert.Contains("--stpes", CliRunner.Run("batch", jobs, "--stpes", "2").Stderr);
        Assert.Contains("--shard:", CliRunner.Run("batch", jobs, "--shard", "2/2").Stderr);
        Assert.Equal(Native.Cli.ExitCodes.FileAccess, CliRunner.Run("batch", Path.Combine(dir, "missing.jsonl")).Code);
        Assert.False(File.Exists(Path.Combine(dir, "line-00001.png")));
    }

    private static Dictionary<string, string> PngParameters(string png) =>
        Pipelines.Infotext.Parse(PngReader.Read(png).GetText("parameters")!).Parameters;
}
