using System.Text.RegularExpressions;
using LayerDiffusion.Native.Backends.Cuda;
using Xunit;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>
/// Runs everywhere (no GPU needed): the clang-14 PTX build embedded a module per kernels/*.cu for sm_80 (that every
/// launcher's kernels are in it is KernelSignatureTests' job).
/// </summary>
public sealed partial class KernelBuildTests
{
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
    public void NoPtxUsesLocalMemoryForTheAttentionRegisters()
    {
        // The flash kernels keep q and the output row in registers; a spill to .local would be a large slowdown.
        foreach (var module in KernelLibrary.ModuleNames.Where(m => m.StartsWith("attention", StringComparison.Ordinal)))
        {
            var ptx = System.Text.Encoding.ASCII.GetString(KernelLibrary.EmbeddedPtx(module)!);
            Assert.DoesNotContain(".local", ptx);
        }
    }

    [GeneratedRegex(@"\.visible \.entry (\w+)\(")]
    private static partial Regex EntryRegex();
}
