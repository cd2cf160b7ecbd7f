using System.Text.Json;
using LayerDiffusion.Native.Tests.CliFlows;
using Xunit;

namespace LayerDiffusion.Native.Tests.Batch;

/// <summary>
/// `ld batch` over the golden tiny models with all three workflows: "command" picks generate, layer or img2img, and
/// a model set is loaded once for consecutive jobs that use it (another layer model in between loads another set).
/// </summary>
public sealed class BatchWorkflowTests
{
    [Fact]
    public void EveryWorkflowRunsAndConsecutiveJobsShareTheirModels()
    {
        string dir = TestPaths.TempDir();
        string attn = TestPaths.Golden("patch_attn_lora.safetensors"), fg2ble = TestPaths.Golden("patch_layer_1cond.safetensors");
        string fg = CliFiles.WritePng(dir, "fg.png", 4), init = CliFiles.WritePng(dir, "init.png", 4);
        string Line(object job) => JsonSerializer.Serialize(job);
        string jobs = Path.Combine(dir, "jobs.jsonl");
        File.WriteAllLines(jobs,
        [
            Line(new Dictionary<string, object> { ["layer-model"] = attn, ["seed"] = 1 }),
            Line(new Dictionary<string, object> { ["layer-model"] = attn, ["seed"] = 2, ["vis"] = true }),
            Line(new Dictionary<string, object> { ["command"] = "layer", ["mode"] = "fg2ble", ["layer-model"] = fg2ble, ["fg"] = fg }),
            Line(new Dictionary<string, object> { ["command"] = "img2img", ["layer-model"] = attn, ["init"] = init, ["denoise"] = 0.6 }),
        ]);
        string[] models =
        [
            "--model", TestPaths.Golden("tiny_sdxl.safetensors"), "--tokenizer", CliFiles.Vocab,
            "--transparent-decoder", TestPaths.Golden("tiny_transparent_decoder.safetensors"),
            "--transparent-encoder", TestPaths.Golden("transparent_encoder_weights.safetensors"),
        ];
        var (code, _, stderr) = CliRunner.Run(["batch", jobs, "--out-dir", dir, .. models, .. CliFiles.Small]);
        Assert.True(code == 0, stderr);

        var results = File.ReadAllLines(Path.Combine(dir, "results.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(["generate", "generate", "layer", "img2img"], results.Select(r => r.GetProperty("command").GetString()));
        Assert.All(results, r => Assert.Equal("ok", r.GetProperty("status").GetString()));
        Assert.Contains(results[1].GetProperty("outputs").EnumerateArray(), f => f.GetString()!.EndsWith("line-00002_vis.png", StringComparison.Ordinal));
        // attn, then fg2ble's layer model, then attn again for the img2img job: three loads for four jobs.
        Assert.Contains("model set 3", stderr);
        Assert.DoesNotContain("model set 4", stderr);
    }
}
