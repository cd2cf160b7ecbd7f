using System.Text.Json;
using LayerDiffusion.Native.Cli;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.Tests.CliFlows;
using LayerDiffusion.Native.Tests.Lora;
using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.Batch;

/// <summary>
/// `ld batch` against `ld generate` on the tiny SD1.5 files: a job's `&lt;lora:&gt;` tags resolve under --lora-dir as
/// generate resolves them (same pixels, same "Lora hashes"), the job record and the results line list every file the
/// job wrote (--save-latent and --json included), a job whose latent went missing runs again, and a LoRA file replaced
/// under the same name (its tag or its --lora path) changes the job's settings hash.
/// </summary>
public sealed class BatchLoraAndRecordTests
{
    private static readonly string[] Models =
        [.. CliFiles.Sd15ModelArgs("layer_sd15_transparent_attn.safetensors"), "--method", "sd15-attn", "--device", "cpu", .. CliFiles.Small];

    private const string Prompt = "a cup <lora:sd15style:0.8>";

    private static List<JsonElement> Results(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "results.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public void JobsResolveLoraTagsAsGenerateAndRecordEveryFileTheyWrite()
    {
        string dir = TestPaths.TempDir(), loras = Directory.CreateDirectory(Path.Combine(dir, "loras")).FullName;
        Sd15UnetLoraTests.WriteLora(loras, "sd15style");
        string single = Path.Combine(dir, "single.png");
        var (code, _, stderr) = CliRunner.Run(["generate", .. Models, "--lora-dir", loras, "--prompt", Prompt, "--seed", "5", "--out", single]);
        Assert.True(code == 0, stderr);

        string jobs = Path.Combine(dir, "jobs.jsonl");
        File.WriteAllLines(jobs,
        [
            JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = Prompt, ["seed"] = 5, ["out"] = "job.png", ["save-latent"] = "job.safetensors", ["json"] = "job.json" }),
        ]);
        string[] batch = ["batch", jobs, "--out-dir", dir, .. Models, "--lora-dir", loras];
        (code, _, stderr) = CliRunner.Run(batch);
        Assert.True(code == 0, stderr);

        var job = PngReader.Read(Path.Combine(dir, "job.png"));
        var alone = PngReader.Read(single);
        Assert.Equal(alone.Pixels, job.Pixels);
        var (jobPrompt, _, jobParams) = Infotext.Parse(job.GetText("parameters")!);
        Assert.Equal(Prompt, jobPrompt);
        Assert.Equal(Infotext.Parse(alone.GetText("parameters")!).Parameters["Lora hashes"], jobParams["Lora hashes"]);

        string[] expected = ["job.png", "job.safetensors", "job.json"];
        using (var record = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "job.ld-job.json"))))
            Assert.Equal(expected.Order(), record.RootElement.GetProperty("outputs").EnumerateArray().Select(f => f.GetString()!).Order());
        Assert.Equal(expected.Select(f => Path.Combine(dir, f)).Order(), Results(dir)[0].GetProperty("outputs").EnumerateArray().Select(f => f.GetString()!).Order());

        // All there: a rerun skips the job. The latent gone: the job runs again and writes it back.
        (code, _, stderr) = CliRunner.Run(batch);
        Assert.True(code == 0, stderr);
        Assert.Equal("skipped", Results(dir)[1].GetProperty("status").GetString());
        File.Delete(Path.Combine(dir, "job.safetensors"));
        (code, _, stderr) = CliRunner.Run(batch);
        Assert.True(code == 0, stderr);
        Assert.Equal("ok", Results(dir)[2].GetProperty("status").GetString());
        Assert.True(File.Exists(Path.Combine(dir, "job.safetensors")));

        // The LoRA the tag names replaced by another file: not the finished job any more.
        Sd15UnetLoraTests.WriteLora(loras, "sd15style", seed: 2);
        File.SetLastWriteTimeUtc(Path.Combine(loras, "sd15style.safetensors"), DateTime.UtcNow.AddMinutes(1));
        (code, _, stderr) = CliRunner.Run(batch);
        Assert.True(code == 0, stderr);
        Assert.Equal("ok", Results(dir)[3].GetProperty("status").GetString());
        Assert.NotEqual(job.Pixels, PngReader.Read(Path.Combine(dir, "job.png")).Pixels);
    }

    [Fact]
    public void AReplacedLoraFileChangesTheSettingsHash()
    {
        string dir = TestPaths.TempDir();
        string path = Sd15UnetLoraTests.WriteLora(dir, "a");
        string Hash(string line) => BatchJobFile.Parse(1, 0, line, new Dictionary<string, string?> { ["--lora-dir"] = dir }, dir).SettingsHash;
        string byPath = JsonSerializer.Serialize(new Dictionary<string, object> { ["lora"] = new[] { path + ":0.5" } });
        string byTag = JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = "x <lora:a:0.5>" });
        string byMissingTag = JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = "x <lora:missing:0.5>" });
        string byMissingFolder = JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = "x <lora:nosuch/a:0.5>" });
        Assert.NotEqual(Hash(byMissingTag), Hash(byMissingFolder));   // hashed, not an I/O error that stops the batch
        var before = new[] { Hash(byPath), Hash(byTag), Hash(byMissingTag) };
        File.AppendAllText(path, " "); // another size under the same name
        Assert.NotEqual(before[0], Hash(byPath));
        Assert.NotEqual(before[1], Hash(byTag));
        Assert.Equal(before[2], Hash(byMissingTag)); // a tag that finds no file fails when the job runs
    }
}
