using System.Text.RegularExpressions;
using LayerDiffusion.Native.Backends.Cuda;
using Xunit;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>
/// Runs everywhere (no GPU needed): the clang-14 PTX build embedded a module per kernels/*.cu, and every kernel the
/// CUDA backend launches has an entry in it for every storage type (or element size).
/// </summary>
public sealed partial class KernelBuildTests
{
    private static readonly string[] Types = ["f32", "f16", "bf16"];
    private static readonly string[] Sizes = ["u16", "u32"];

    private static HashSet<string> Entries()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in KernelLibrary.ModuleNames)
        {
            var ptx = KernelLibrary.EmbeddedPtx(m);
            Assert.True(ptx is not null, $"no embedded kernels/{m}.ptx");
            var text = System.Text.Encoding.ASCII.GetString(ptx!);
            Assert.StartsWith("//", text.TrimStart());
            Assert.Contains(".target sm_80", text);
            foreach (Match e in EntryRegex().Matches(text)) set.Add(e.Groups[1].Value);
        }
        return set;
    }

    [Fact]
    public void EveryKernelsFileHasAnEmbeddedModule()
    {
        var sources = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "kernels"), "*.cu").Select(Path.GetFileNameWithoutExtension).Order().ToArray();
        Assert.Equal(sources, KernelLibrary.ModuleNames.Order().ToArray());
        Assert.NotEmpty(Entries());
    }

    [Fact]
    public void EveryKernelTheBackendLaunchesIsInThePtx()
    {
        var entries = Entries();
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "src", "Engine", "Backends", "Cuda"), "*.cs"))
            foreach (Match m in KernelLiteralRegex().Matches(File.ReadAllText(file))) used.Add(m.Groups[1].Success ? m.Groups[1].Value : m.Groups["x"].Value);
        Assert.Contains("ld_unary_", used); // the scan found the launch sites
        Assert.Contains("ld_cast_", used);
        Assert.Contains("ld_flash_d64_", used);

        var missing = new List<string>();
        foreach (var name in used)
        {
            if (name == "ld_cast_")
            {
                foreach (var s in Types) foreach (var d in Types) Require($"ld_cast_{s}_{d}");
                continue;
            }
            if (!name.EndsWith('_')) { Require(name); continue; }
            // A prefix completed with the storage type, or with the element size for pure data movement.
            // Tensor-core kernels exist for the 16-bit types only (fp32 has no mma.sync input type).
            var family = name.Contains("_mma") ? Types[1..] : entries.Any(e => e == name + "u16") ? Sizes : Types;
            foreach (var s in family) Require(name + s);
        }
        Assert.True(missing.Count == 0, "kernels launched by the backend but missing from the PTX: " + string.Join(", ", missing));

        void Require(string entry)
        {
            if (!entries.Contains(entry)) missing.Add(entry);
        }
    }

    [Fact]
    public void NoPtxUsesLocalMemoryForTheAttentionRegisters()
    {
        // The flash kernels keep q and the output row in registers; a spill to .local would be a large slowdown.
        foreach (var module in new[] { "attention", "attention_mma", "attention_mma2" })
        {
            var ptx = System.Text.Encoding.ASCII.GetString(KernelLibrary.EmbeddedPtx(module)!);
            Assert.DoesNotContain(".local", ptx);
        }
    }

    [GeneratedRegex(@"\.visible \.entry (\w+)\(")]
    private static partial Regex EntryRegex();

    [GeneratedRegex("\"(ld_[a-z0-9_]+)\"|\\$\"(?<x>ld_cast_)")]
    private static partial Regex KernelLiteralRegex();
}
