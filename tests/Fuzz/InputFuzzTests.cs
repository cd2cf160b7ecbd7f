using System.Text;
using System.Text.Json.Nodes;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Tests.CliFlows;
using Xunit;
using Xunit.Abstractions;

namespace LayerDiffusion.Native.Tests.Fuzz;

/// <summary>
/// The hostile input families of the reliability issue, generated from fixed seeds and run through `ld` in-process:
/// PNG inputs, model files with wrong shapes, tokenizer files, golden manifests, and option/output-path
/// combinations. Every case must end with a documented exit code and a clear message, leave no partial file and no
/// input changed, stay under the heap bound and finish (see <see cref="FuzzHarness"/>).
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed class InputFuzzTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string Decoder = TestPaths.Golden("tiny_transparent_decoder.safetensors");

    private string File_(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private void Report(string family, List<FuzzHarness.Outcome> runs) =>
        log.WriteLine($"{family}: {runs.Count} cases, {runs.Count(r => r.Code == 0)} succeeded, {runs.Count(r => r.Code != 0)} refused; " +
            $"slowest {runs.Max(r => r.Elapsed.TotalSeconds):F1} s, largest heap growth {runs.Max(r => r.PeakLiveBytes) / 1048576} MiB");

    [Fact]
    public void PngInputs()
    {
        var rng = new System.Random(15003);
        string latent = Path.Combine(_dir, "latent.safetensors");
        new SafeTensorsWriter().Add("latent", [1, 4, 8, 8], Enumerable.Range(0, 256).Select(i => (i % 17 - 8) / 8f).ToArray()).Write(latent);
        var valid = PngFiles.Valid(64, 64, 3);
        var runs = new List<FuzzHarness.Outcome>();
        for (int i = 0; i < 60; i++)
        {
            var (what, bytes) = PngFiles.Mutate(valid, rng);
            string rgb = File_($"rgb{i}.png", bytes);
            string output = Path.Combine(_dir, $"out{i}.png");
            runs.Add(FuzzHarness.Run($"png {i} ({what})", _dir, ["decode", "--rgb", rgb, "--latent", latent, "--transparent-decoder", Decoder,
                "--out", output, "--device", "cpu"], [rgb, latent, Decoder]));
            File.Delete(rgb);
            if (File.Exists(output)) File.Delete(output);
        }
        Report("png", runs);
    }

    [Fact]
    public void ModelFilesWithWrongShapes()
    {
        var rng = new System.Random(15004);
        var runs = new List<FuzzHarness.Outcome>();
        string[] sources = ["patch_attn_lora.safetensors", "tiny_transparent_decoder.safetensors", "tiny_sdxl.safetensors"];
        for (int i = 0; i < 24; i++)
        {
            string source = sources[i % 3];
            string hostile = File_($"model{i}.safetensors", SafetensorsFiles.WithRandomShapes(TestPaths.Golden(source), rng, changeFraction: 0.02 + rng.NextDouble() * 0.3));
            string Pick(string golden) => source == golden ? hostile : TestPaths.Golden(golden);
            runs.Add(FuzzHarness.Run($"model {i} ({source})", _dir, ["generate", "--model", Pick("tiny_sdxl.safetensors"), "--tokenizer", CliFiles.Vocab,
                "--layer-model", Pick("patch_attn_lora.safetensors"), "--transparent-decoder", Pick("tiny_transparent_decoder.safetensors"),
                "--out", Path.Combine(_dir, "o.png"), .. CliFiles.Small, "--device", "cpu"], [hostile]));
            File.Delete(hostile);
            if (File.Exists(Path.Combine(_dir, "o.png"))) File.Delete(Path.Combine(_dir, "o.png"));
        }
        Report("model shapes", runs);
    }

    [Fact]
    public void TokenizerFiles()
    {
        var rng = new System.Random(15005);
        var gz = File.ReadAllBytes(CliFiles.Vocab);
        string text;
        using (var z = new System.IO.Compression.GZipStream(new MemoryStream(gz), System.IO.Compression.CompressionMode.Decompress))
        using (var r = new StreamReader(z)) text = r.ReadToEnd();
        var lines = text.Split('\n');
        var runs = new List<FuzzHarness.Outcome>();
        for (int i = 0; i < 16; i++)
        {
            string path;
            switch (i % 4)
            {
                case 0: path = File_($"t{i}.txt.gz", gz[..rng.Next(gz.Length)]); break;
                case 1:
                    var flipped = gz.ToArray();
                    flipped[10 + rng.Next(gz.Length - 10)] ^= (byte)(1 << rng.Next(8));
                    path = File_($"t{i}.txt.gz", flipped);
                    break;
                case 2:
                    var edited = lines.ToArray();
                    int at = 1 + rng.Next(49000);
                    edited[at] = rng.Next(3) switch { 0 => "", 1 => edited[at].Replace(" ", ""), _ => edited[rng.Next(1, 49000)] + " x" };
                    path = File_($"t{i}.txt", Encoding.UTF8.GetBytes(string.Join('\n', edited)));
                    break;
                default:
                    var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines[..rng.Next(1, 60000)]));
                    if (rng.Next(2) == 0) bytes[rng.Next(bytes.Length)] = 0xFE;
                    path = File_($"t{i}.txt", bytes);
                    break;
            }
            runs.Add(FuzzHarness.Run($"tokenizer {i}", _dir, ["generate", "--model", TestPaths.Golden("tiny_sdxl.safetensors"), "--tokenizer", path,
                "--layer-model", TestPaths.Golden("patch_attn_lora.safetensors"), "--transparent-decoder", Decoder,
                "--out", Path.Combine(_dir, "o.png"), .. CliFiles.Small, "--device", "cpu"], [path]));
            File.Delete(path);
            if (File.Exists(Path.Combine(_dir, "o.png"))) File.Delete(Path.Combine(_dir, "o.png"));
        }
        Report("tokenizer", runs);
    }

    [Fact]
    public void GoldenManifests()
    {
        var rng = new System.Random(15006);
        string golden = Path.Combine(_dir, "golden");
        Directory.CreateDirectory(golden);
        foreach (var f in Directory.GetFiles(TestPaths.GoldenDir, "*.safetensors"))
            File.CreateSymbolicLink(Path.Combine(golden, Path.GetFileName(f)), f);
        string original = File.ReadAllText(TestPaths.Golden("manifest.json"));
        var runs = new List<FuzzHarness.Outcome>();
        for (int i = 0; i < 40; i++)
        {
            string manifest = i % 5 == 4 ? CutText(original, rng) : EditJson(original, rng);
            File.WriteAllText(Path.Combine(golden, "manifest.json"), manifest);
            var r = FuzzHarness.Run($"manifest {i}", _dir, ["verify", "--golden", golden, "--device", "cpu", "--cases", "vector_cond"], [],
                allowedExits: [0, 1, 2, 3, 4]);
            if (r.Code == 1) Assert.Matches(@"\d+ passed, [1-9]\d* failed", r.Stdout); // 1 only for failing cases
            runs.Add(r);
        }
        Report("manifest", runs);
    }

    private static string CutText(string s, System.Random rng) => s[..rng.Next(s.Length)];

    /// <summary>One random edit of a random node: removed, retyped, or replaced by an odd value.</summary>
    private static string EditJson(string json, System.Random rng)
    {
        var root = JsonNode.Parse(json)!;
        var nodes = new List<JsonNode>();
        void Walk(JsonNode? n)
        {
            if (n is null) return;
            nodes.Add(n);
            if (n is JsonObject o) foreach (var (_, v) in o) Walk(v);
            if (n is JsonArray a) foreach (var v in a) Walk(v);
        }
        // Prefer the case under test (vector_cond) and the manifest's structure over other cases' settings.
        Walk(rng.Next(3) == 0 ? root : root["cases"]!["vector_cond"]);
        var target = nodes[rng.Next(nodes.Count)];
        JsonNode? replacement = rng.Next(7) switch
        {
            0 => null,
            1 => JsonValue.Create(-1),
            2 => JsonValue.Create("x"),
            3 => new JsonArray(),
            4 => new JsonObject(),
            5 => JsonValue.Create(1e308),
            _ => JsonValue.Create(true),
        };
        if (target.Parent is JsonObject parent)
        {
            string key = parent.First(kv => ReferenceEquals(kv.Value, target)).Key;
            if (rng.Next(3) == 0) parent.Remove(key);
            else parent[key] = replacement;
        }
        else if (target.Parent is JsonArray array)
        {
            int index = array.IndexOf(target);
            array[index] = replacement;
        }
        else return "[]";
        return root.ToJsonString();
    }

    [Fact]
    public void OptionsAndOutputPaths()
    {
        var rng = new System.Random(15007);
        var demo = DemoModels.Ensure(DemoModels.DefaultDir);
        string sub = Path.Combine(_dir, "sub");
        Directory.CreateDirectory(sub);
        File.CreateSymbolicLink(Path.Combine(_dir, "link-to-model.png"), demo.Checkpoint);
        string[] outputs =
        [
            Path.Combine(_dir, "o.png"), Path.Combine(sub, "deep.png"), Path.Combine(_dir, "missing", "o.png"), _dir, "/dev/null",
            "/sys/ld-fuzz.png", demo.Checkpoint, demo.Decoder, Path.Combine(_dir, "link-to-model.png"), Path.Combine(_dir, "new\nline.png"),
            Path.Combine(_dir, new string('n', 300) + ".png"), Path.Combine(_dir, "o.PNG"), Path.Combine(_dir, "o.jpg"), "",
        ];
        var values = new Dictionary<string, string[]>
        {
            ["--width"] = ["64", "72", "128", "100", "0", "-8", "16384", "abc", "64.0", "99999999999"],
            ["--height"] = ["64", "72", "100", "0", "1e3"],
            ["--steps"] = ["1", "2", "0", "-1", "1001", "x"],
            ["--cfg"] = ["5", "nan", "inf", "-1", "1e309", "0"],
            ["--seed"] = ["0", "4294967295", "4294967296", "-1", "abc"],
            ["--batch"] = ["1", "2", "0", "65"],
            ["--sampler"] = ["euler", "euler_a", "dpmpp_2m", "unipc", "nope", "", "DPM++ 2M SDE Karras"],
            ["--schedule"] = ["karras", "normal", "exponential", "bogus"],
            ["--weight"] = ["1", "-1", "3", "3.01", "nan"],
            ["--stop-at"] = ["1", "0.5", "0", "2"],
            ["--preview-every"] = ["1", "0", "3"],
            ["--vae-tile"] = ["0", "4", "8", "99999"],
            ["--decoder-batch"] = ["0", "1", "9"],
            ["--precision"] = ["fp32", "fp8", "auto"],
            ["--rng"] = ["cpu", "gpu", "x"],
            ["--max-image-pixels"] = ["0", "100", "-5"],
            ["--bogus"] = ["1"],
            ["--resize-mode"] = ["crop", "resize", "fill", "stretch"],
        };
        var runs = new List<FuzzHarness.Outcome>();
        for (int i = 0; i < 45; i++)
        {
            var args = new List<string> { "generate", "--demo", "--device", "cpu", "--quiet", "--width", "64", "--height", "64", "--steps", "1" };
            // A few options a case, most with a valid value (each pool starts with its valid values), so some cases run.
            foreach (var (option, pool) in values)
                if (rng.Next(values.Count) < 3) { args.Add(option); args.Add(pool[rng.Next(2) == 0 ? 0 : rng.Next(pool.Length)]); }
            args.AddRange(["--out", outputs[rng.Next(2) == 0 ? 0 : rng.Next(outputs.Length)]]);
            if (rng.Next(3) == 0) args.AddRange(["--save-latent", rng.Next(2) == 0 ? outputs[rng.Next(outputs.Length)] : Path.Combine(_dir, "l.safetensors")]);
            if (rng.Next(3) == 0) args.AddRange(["--json", rng.Next(2) == 0 ? outputs[rng.Next(outputs.Length)] : Path.Combine(_dir, "r.json")]);
            if (rng.Next(4) == 0) args.Add("--vis");
            runs.Add(FuzzHarness.Run($"options {i}", _dir, [.. args], [demo.Checkpoint, demo.AttentionLora, demo.Decoder]));
            foreach (var f in Directory.GetFiles(_dir, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith("link-to-model.png"))) File.Delete(f);
        }
        Report("options", runs);
    }
}
