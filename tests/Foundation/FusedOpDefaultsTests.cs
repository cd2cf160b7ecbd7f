using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Backends.Selftest;
using LayerDiffusion.Native.Verify;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// The fused ops' defaults (built from basic ops: what the CPU runs and the GPU kernels are checked against) meet the
/// selftest's double-precision host references at the fp32 bound.
/// </summary>
public sealed class FusedOpDefaultsTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in SelftestCases.All.Where(c => c.Op is "merge_lora" or "merge_diff" or "randn_philox")) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DefaultMeetsTheHostReference(string name)
    {
        var c = SelftestCases.All.Single(x => x.Name == name);
        Assert.NotNull(c.Reference ?? (object?)c.HostRun);
        var r = SelftestRunner.RunOne(c, CpuBackend.Instance, Precision.Fp32);
        Assert.True(r.Passed, r.Line);
    }
}
