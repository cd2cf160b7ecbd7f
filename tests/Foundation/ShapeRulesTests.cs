using System.Reflection;
using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Backends.Selftest;
using LayerDiffusion.Native.Random;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// Every backend validates through ShapeRules, so the CPU reference rejects what the GPU rejects; and every op of
/// IBackend has a selftest case that compares the GPU with the CPU.
/// </summary>
public sealed class ShapeRulesTests
{
    private static readonly IBackend B = CpuBackend.Instance;

    private static Tensor T(params int[] shape) => B.FromHost(new float[Shape.Count(shape)], shape);

    public static TheoryData<string, Func<Tensor>> Rejected() => new()
    {
        { "GroupNorm gamma count", () => B.GroupNorm(T(1, 8, 2, 2), 4, T(7), T(8), 1e-5f, false) },
        { "GroupNorm groups", () => B.GroupNorm(T(1, 8, 2, 2), 3, T(8), T(8), 1e-5f, false) },
        { "LayerNorm beta count", () => B.LayerNorm(T(2, 6), T(6), T(5), 1e-5f) },
        { "Linear bias length", () => B.Linear(T(2, 6), T(4, 6), T(5)) },
        { "Linear weight rank", () => B.Linear(T(2, 6), T(4, 6, 1), null) },
        { "Conv2d weight rank", () => B.Conv2d(T(1, 3, 8, 8), T(4, 3, 3), null, 1, 1) },
        { "Conv2d bias length", () => B.Conv2d(T(1, 3, 8, 8), T(4, 3, 3, 3), T(3), 1, 1) },
        { "Conv2d kernel larger than input", () => B.Conv2d(T(1, 3, 2, 2), T(4, 3, 5, 5), null, 1, 0) },
        { "Attention heads", () => B.Attention(T(1, 4, 6), T(1, 5, 6), T(1, 5, 6), 4, false) },
        { "Attention zero heads", () => B.Attention(T(1, 4, 6), T(1, 5, 6), T(1, 5, 6), 0, false) },
        { "Attention key/value batch", () => B.Attention(T(1, 4, 6), T(2, 5, 6), T(2, 5, 6), 2, false) },
        { "Permute repeats an axis", () => B.Permute(T(2, 3, 4), 0, 0, 1) },
        { "Permute rank", () => B.Permute(T(2, 3, 4), 1, 0) },
        { "Slice past the end", () => B.Slice(T(2, 3), 1, 2, 2) },
        { "Slice axis", () => B.Slice(T(2, 3), 2, 0, 1) },
        { "Concat axis", () => B.Concat(3, T(2, 3), T(2, 3)) },
        { "Concat shapes", () => B.Concat(0, T(2, 3), T(2, 4)) },
        { "Reshape count", () => B.Reshape(T(2, 3), 7) },
        { "Broadcast", () => B.Add(T(2, 3), T(4)) },
        { "MatMul inner", () => B.MatMul(T(2, 3), T(4, 5)) },
        { "Geglu odd width", () => B.Geglu(T(2, 5)) },
        { "Upsample2x rank", () => B.Upsample2x(T(2, 3, 4)) },
        { "FlipRot rank", () => B.FlipRot(T(2, 3, 4), true, 1, false) },
        { "Median8 count", () => B.Median8([T(2), T(2)]) },
        { "MergeDiff shape", () => B.MergeDiff(T(4, 3), T(4, 2), 1f) },
        { "MergeLora rank", () => B.MergeLora(T(4, 3), T(4, 2), T(3, 3), 1f) },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void TheCpuReferenceRejectsWhatTheGpuRejects(string what, Func<Tensor> op)
    {
        var e = Assert.ThrowsAny<ArgumentException>(op);
        Assert.False(string.IsNullOrWhiteSpace(e.Message), what);
    }

    /// <summary>Selftest op names are the method names in snake_case; the one exception is spelled out.</summary>
    private static readonly Dictionary<string, string> CaseNameOf = new() { ["PhiloxNormal"] = "randn_philox" };

    [Fact]
    public void EveryBackendOpHasASelftestCase()
    {
        var ops = new[] { typeof(IBackend), typeof(IPhiloxNormalDevice) }
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(m => !m.IsSpecialName && m.Name != nameof(IDisposable.Dispose) && m.GetCustomAttribute<BackendServiceAttribute>() is null)
            .Select(m => m.Name).Distinct().ToList();
        Assert.Contains("MergeLora", ops);
        static string Key(string s) => s.Replace("_", "").ToLowerInvariant();
        var cases = SelftestCases.All.Where(c => !c.TimingOnly).Select(c => Key(c.Op)).ToHashSet();
        var missing = ops.Where(op => !cases.Contains(Key(CaseNameOf.GetValueOrDefault(op, op)))).ToList();
        Assert.True(missing.Count == 0, "IBackend ops without a selftest case: " + string.Join(", ", missing));
    }
}
