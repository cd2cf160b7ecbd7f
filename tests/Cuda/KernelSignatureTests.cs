using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Backends.Cuda.Kernels;
using Xunit;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>
/// Every kernel launcher (an <see cref="IKernelArgs"/> struct, src/Engine/Backends/Cuda/Kernels) against the kernel
/// source: kernels/*.cu go through clang-14's preprocessor (the compiler that builds them, so macro-instantiated
/// families expand exactly as they compile), every <c>extern "C"</c> kernel signature is read off the result, and each
/// launcher must name existing kernels with the same parameter count and types, at the offsets the embedded PTX
/// declares; every kernel must have a launcher.
/// </summary>
public sealed partial class KernelSignatureTests
{
    private sealed record Signature(string File, string[] Types);

    private static readonly Lazy<Dictionary<string, Signature>> s_source = new(ReadSource);

    private static Dictionary<string, Signature> ReadSource()
    {
        var kernels = new Dictionary<string, Signature>(StringComparer.Ordinal);
        var dir = Path.Combine(TestPaths.RepoRoot, "kernels");
        foreach (var file in Directory.GetFiles(dir, "*.cu").Order())
        {
            var psi = new ProcessStartInfo("clang-14", ["-x", "cuda", "--cuda-device-only", "--cuda-gpu-arch=sm_80", "-nocudainc", "-nocudalib", "-E", "-P", "-I", dir, file])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"clang-14 -E {file}: {stderr.Result}");
            foreach (Match m in KernelRegex().Matches(text))
            {
                var types = m.Groups[2].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(CType).ToArray();
                Assert.True(kernels.TryAdd(m.Groups[1].Value, new Signature(Path.GetFileName(file), types)), $"kernel {m.Groups[1].Value} is defined twice");
            }
        }
        return kernels;
    }

    /// <summary>A C parameter declaration reduced to its type: any pointer is "ptr"; const and the name dropped.</summary>
    private static string CType(string declaration)
    {
        if (declaration.Contains('*')) return "ptr";
        var words = declaration.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w != "const").ToArray();
        string type = string.Join(' ', words[..^1]);
        return type == "unsigned int" ? "unsigned" : type;
    }

    private static string CsType(Type t) =>
        t == typeof(DevPtr) ? "ptr"
        : t == typeof(long) ? "long long"
        : t == typeof(ulong) ? "unsigned long long"
        : t == typeof(int) ? "int"
        : t == typeof(uint) ? "unsigned"
        : t == typeof(float) ? "float"
        : t.IsValueType && !t.IsPrimitive ? t.Name
        : throw new InvalidOperationException($"{t} cannot be a kernel parameter");

    private static IEnumerable<Type> Launchers() =>
        typeof(IKernelArgs).Assembly.GetTypes().Where(t => t.IsValueType && typeof(IKernelArgs).IsAssignableFrom(t));

    private static KernelName NameOf(Type launcher) =>
        (KernelName)launcher.GetProperty(nameof(IKernelArgs.Kernel), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    private static FieldInfo[] Fields(Type launcher) =>
        launcher.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).OrderBy(f => f.MetadataToken).ToArray();

    [Fact]
    public void TheSourceParsesIntoKernelsOfEveryFile()
    {
        var source = s_source.Value;
        var files = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "kernels"), "*.cu").Select(Path.GetFileName).ToHashSet();
        Assert.Equal(files.Order(), source.Values.Select(s => s.File).Distinct().Order());
        // Macro-instantiated families expanded: one kernel per storage type, casts for every pair.
        Assert.Contains("ld_unary_bf16", source.Keys);
        Assert.Contains("ld_cast_bf16_f16", source.Keys);
        Assert.Equal(["long long", "ptr", "ptr", "int", "float", "float"], source["ld_unary_f16"].Types);
        Assert.Equal("BroadcastShape", source["ld_binary_f32"].Types[^1]);
    }

    [Fact]
    public void EveryLauncherMatchesItsKernelsInTheSourceAndThePtx()
    {
        var source = s_source.Value;
        var ptx = KernelLibrary.ReadParams();
        var problems = new List<string>();
        var launchers = Launchers().ToArray();
        Assert.True(launchers.Length >= 25, $"only {launchers.Length} launchers found");
        foreach (var launcher in launchers)
        {
            var fields = Fields(launcher);
            var types = fields.Select(f => CsType(f.FieldType)).ToArray();
            var names = NameOf(launcher).All.ToArray();
            Assert.NotEmpty(names);
            foreach (var name in names)
            {
                if (!source.TryGetValue(name, out var sig)) { problems.Add($"{launcher.Name}: no kernel {name} in kernels/*.cu"); continue; }
                if (!sig.Types.SequenceEqual(types))
                    problems.Add($"{launcher.Name}: ({string.Join(", ", types)}) but {name} in {sig.File} takes ({string.Join(", ", sig.Types)})");
                if (!ptx.TryGetValue(name, out var layout)) { problems.Add($"{launcher.Name}: {name} is not in the embedded PTX"); continue; }
                var offsets = fields.Select(f => (int)Marshal.OffsetOf(launcher, f.Name)).ToArray();
                int size = Marshal.SizeOf(launcher);
                if (!layout.Offsets.SequenceEqual(offsets) || !layout.Fits(size))
                    problems.Add($"{launcher.Name}: fields at [{string.Join(", ", offsets)}] of {size} bytes, {name}'s PTX parameters at [{string.Join(", ", layout.Offsets)}] ending at {layout.Size}");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryKernelHasALauncher()
    {
        var launched = Launchers().SelectMany(t => NameOf(t).All).ToHashSet(StringComparer.Ordinal);
        var missing = s_source.Value.Keys.Where(k => !launched.Contains(k)).Order().ToArray();
        Assert.True(missing.Length == 0, "kernels without a launcher: " + string.Join(", ", missing));
    }

    [Fact]
    public void ALauncherOutOfStepWithItsKernelIsRefusedByTheLayoutCheck()
    {
        // What CudaBackend.Launch compares before anything runs: the struct must cover the kernel's parameter block.
        var layout = KernelLibrary.ReadParams()["ld_unary_f32"];
        Assert.Equal([0, 8, 16, 24, 28, 32], layout.Offsets);
        Assert.True(layout.Fits(Marshal.SizeOf<LdUnary>()));       // 36 bytes of parameters, 4 of tail padding
        Assert.False(layout.Fits(Marshal.SizeOf<LdAxpy>()));       // a shorter parameter list
        Assert.False(layout.Fits(Marshal.SizeOf<LdGnApply>()));     // a longer one
    }

    [GeneratedRegex(@"extern\s+""C""[^{;]*?\b(ld_\w+)\s*\(([^)]*)\)\s*\{")]
    private static partial Regex KernelRegex();
}
