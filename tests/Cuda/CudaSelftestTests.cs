using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Backends.Selftest;
using LayerDiffusion.Native.Verify;
using Xunit;
using Xunit.Abstractions;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>
/// The same op cases as `ld selftest --device cuda`, one test per case and precision (skipped without a GPU). The
/// timing-only cases compare nothing, so they are not tests here (`ld selftest --time` runs them).
/// </summary>
public sealed class CudaSelftestTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var p in new[] { "fp32", "fp16" })
            foreach (var c in SelftestCases.All.Where(c => !c.TimingOnly)) data.Add(p, c.Name);
        return data;
    }

    [GpuTheory]
    [MemberData(nameof(Cases))]
    public void OpMatchesCpuReference(string precision, string caseName)
    {
        var p = PrecisionMode.Parse(precision);
        var (backend, why) = CudaBackend.TryCreate(p);
        Assert.True(backend is not null, "GPU present but no backend: " + why);
        using (backend)
        {
            var c = SelftestCases.All.Single(x => x.Name == caseName);
            var r = SelftestRunner.RunOne(c, backend!, p);
            output.WriteLine(r.Line);
            Assert.True(r.Passed, r.Line);
        }
    }

    [GpuFact]
    public void OutOfMemoryNamesRequestedAndFreeBytes()
    {
        var (backend, why) = CudaBackend.TryCreate(Precision.Fp16);
        Assert.True(backend is not null, why);
        using var b = (CudaBackend)backend!;
        var oom = Assert.ThrowsAny<LdException>(() => new Interop.DeviceMemory(b.Device, 1L << 50)); // 1 PiB
        Assert.Contains("requested 1125899906842624 bytes", oom.Message);
        Assert.Contains("free", oom.Message);
    }
}
