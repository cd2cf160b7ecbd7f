using Xunit;
using Xunit.Abstractions;

namespace LayerDiffusion.Native.Tests.Fuzz;

/// <summary>`ld info` on safetensors files built from the real ones with wrong ranks and mutated headers.</summary>
[Collection(FuzzCollection.Name)]
public sealed class SafetensorsFuzzTests(ITestOutputHelper log)
{
    private static readonly string[] Sources =
    [
        "tiny_sdxl.safetensors", "patch_attn_lora.safetensors", "patch_layer_2cond.safetensors",
        "tiny_transparent_decoder.safetensors", "transparent_encoder_weights.safetensors",
    ];

    [Fact]
    public void InfoOnRealKeyNamesWithWrongRanksNeverFailsInternally()
    {
        var rng = new System.Random(15001);
        string dir = TestPaths.TempDir();
        try
        {
            int ok = 0, rejected = 0;
            foreach (var source in Sources)
                for (int i = 0; i < 12; i++)
                {
                    string path = Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(source)}-{i}.safetensors");
                    File.WriteAllBytes(path, SafetensorsFiles.WithRandomShapes(TestPaths.Golden(source), rng, changeFraction: i / 12.0));
                    var r = FuzzHarness.Run($"{source} shapes {i}", dir, ["info", path], [path]);
                    if (r.Code == 0) ok++; else rejected++;
                    File.Delete(path);
                }
            log.WriteLine($"{ok} described, {rejected} rejected with a clear error");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void InfoOnMutatedHeadersNeverFailsInternally()
    {
        var rng = new System.Random(15002);
        string dir = TestPaths.TempDir();
        try
        {
            int ok = 0, rejected = 0;
            foreach (var source in Sources.Skip(1))
                for (int i = 0; i < 25; i++)
                {
                    string path = Path.Combine(dir, $"m{i}.safetensors");
                    File.WriteAllBytes(path, SafetensorsFiles.MutatedHeader(TestPaths.Golden(source), rng));
                    var r = FuzzHarness.Run($"{source} mutation {i}", dir, ["info", path], [path]);
                    if (r.Code == 0) ok++; else rejected++;
                    File.Delete(path);
                }
            log.WriteLine($"{ok} described, {rejected} rejected with a clear error");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
