using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Verify;
using Xunit;
using Xunit.Abstractions;

namespace LayerDiffusion.Native.Tests.Golden;

/// <summary>
/// Every golden case the engine has a runner for, through the same verifier as `ld verify`, on the CPU.
/// A case with a runner must have every output computed and within tolerance.
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
        var manifest = GoldenManifest.Load(TestPaths.GoldenDir);
        Assert.True(manifest.Find(caseName) is not null, $"golden set has no case {caseName}");
        var log = new StringWriter();
        var summary = new GoldenVerifier().Run(TestPaths.GoldenDir, CpuBackend.Instance, [caseName], Precision.Fp32, log);
        output.WriteLine(log.ToString());
        Assert.True(summary.Passed > 0, "no tensor compared");
        Assert.Equal(0, summary.Failed);
        Assert.Equal(0, summary.Skipped);
    }
}
