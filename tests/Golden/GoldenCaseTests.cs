using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Verify;
using Xunit;
using Xunit.Abstractions;

namespace LayerDiffusion.Native.Tests.Golden;

/// <summary>
/// Every golden case the engine has a runner for, through the same verifier as `ld verify`, on the CPU, in the
/// golden set (SDXL or SD1.5) that holds it. A case with a runner must have every output computed and within tolerance.
/// </summary>
public sealed class GoldenCaseTests(ITestOutputHelper output)
{
    public static TheoryData<string> RunnableCases()
    {
        var data = new TheoryData<string>();
        foreach (var r in CaseRunners.All) data.Add(r.CaseName);
        return data;
    }

    [Theory]
    [MemberData(nameof(RunnableCases))]
    public void CaseMatchesReference(string caseName)
    {
        string? dir = TestPaths.GoldenSets.FirstOrDefault(d => GoldenManifest.Load(d).Find(caseName) is not null);
        Assert.True(dir is not null, $"no golden set ({string.Join(", ", TestPaths.GoldenSets)}) has a case {caseName}");
        var log = new StringWriter();
        var summary = new GoldenVerifier().Run(dir, CpuBackend.Instance, [caseName], Precision.Fp32, log);
        output.WriteLine(log.ToString());
        Assert.True(summary.Passed > 0, "no tensor compared");
        Assert.Equal(0, summary.Failed);
        Assert.Equal(0, summary.Skipped);
    }
}
