using Xunit;
using Xunit.Abstractions;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>
/// `ld selftest --device cuda` on the emulated GPU at each precision: every op of the CUDA backend against the CPU
/// reference on random inputs. Its own class (and emulator build) so that xunit runs it beside the other emulator
/// classes (tests of one class run one after another).
/// </summary>
public sealed class EmulatedSelftestTests(CudaEmulatorFixture emu, ITestOutputHelper output) : IClassFixture<CudaEmulatorFixture>
{
    private Dictionary<string, string> Env => new() { ["LD_CUDA_PATH"] = emu.Library!, ["LD_CUBLASLT_PATH"] = emu.Library!, ["LD_CUDNN_PATH"] = emu.Library! };
    private static (int Code, string Output) Run(string exe, string[] args, Dictionary<string, string>? env, TimeSpan timeout) =>
        CudaEmulatorTests.Run(exe, args, env, timeout);

    [EmulatorTheory]
    [InlineData("fp32")]
    [InlineData("fp16")]
    [InlineData("bf16")]
    public void SelftestPassesOnTheEmulatedGpu(string precision)
    {
        Assert.NotNull(emu.Library);
        var ld = Path.Combine(AppContext.BaseDirectory, "ld.dll");
        var (code, text) = Run("dotnet", [ld, "selftest", "--device", "cuda", "--precision", precision], Env, TimeSpan.FromMinutes(15));
        output.WriteLine(text);
        Assert.Contains("host emulation", text);
        Assert.Contains("convolutions: cuDNN 9.14.0", text); // the conv cases ran through the (fake) cuDNN
        Assert.Matches(@"selftest: [1-9]\d* passed, 0 failed \(", text); // nothing skipped
        Assert.DoesNotContain("SKIP", text);
        // Scoped forward passes leave exactly the weights allocated (ScopeRelease's cases).
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(text, "PASS  pool_after_forward").Count);
        Assert.Equal(0, code);
    }
}
