using System.Text.RegularExpressions;
using Xunit;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>
/// The convolution paths on the emulated GPU: cuDNN (tests/Cuda/emu/fake_cudnn.cpp) against im2col, the algorithm
/// search once per shape, cuDNN errors reaching the user with the call named, and the fallback without cuDNN.
/// </summary>
public sealed partial class CudaEmulatorTests
{
    /// <summary>The UNet (its ResBlocks' convolutions) and the VAE in strict fp32 through cuDNN, to the manifest's CPU tolerances.</summary>
    [EmulatorFact]
    public void UnetAndVaeThroughCudnnMatchTheGoldenData() => VerifyOnTheEmulatedGpu("fp32", "unet_forward,vae");

    [EmulatorFact]
    public void ConvCasesPassThroughIm2colWithTheSwitch()
    {
        var env = EmulatorEnv;
        env["LD_CONV"] = "im2col";
        env["LDEMU_CUDNN_TRACE"] = "1";
        // The plain cases only ("conv2d [" / "conv2d_add ["): the backend's own choice, which LD_CONV sets.
        var (code, text) = Run("dotnet", [LdDll, "selftest", "--device", "cuda", "--precision", "fp16", "--filter", "conv2d [|conv2d_add ["], env, TimeSpan.FromMinutes(10));
        output.WriteLine(text);
        Assert.Contains("convolutions: im2col (LD_CONV=im2col)", text);
        Assert.Matches(@"selftest: [1-9]\d* passed, 0 failed", text);
        Assert.DoesNotContain("fake cudnn:", text); // not one cuDNN call
        Assert.Equal(0, code);
    }

    /// <summary>
    /// Each distinct convolution is searched exactly once however often it runs (every case runs its op 9 times with
    /// --time, through the fused and the unfused path, and NHWC is a shape of its own), with the heuristic and with the
    /// timed search; the fused calls are accepted (IMPLICIT_PRECOMP_GEMM with the identity activation).
    /// </summary>
    /// <remarks>
    /// The fake's model makes Winograd twice as fast as IMPLICIT_PRECOMP_GEMM on 3×3 stride-1 fp16: the timed search
    /// then leaves the bias and residual of [2,64,16,16] unfused, while the heuristic (no times) fuses them.
    /// </remarks>
    [EmulatorTheory]
    [InlineData("heuristic", "search v7", "fused bias/residual via IMPLICIT_PRECOMP_GEMM")]
    [InlineData("find", "search find", "bias/residual unfused")]
    public void AlgorithmSearchRunsOncePerShape(string search, string traced, string residualBlockPlan)
    {
        var env = EmulatorEnv;
        env["LDEMU_CUDNN_TRACE"] = "1";
        env["LD_CUDNN_LOG"] = "1";
        env["LD_CUDNN_SEARCH"] = search;
        var (code, text) = Run("dotnet", [LdDll, "selftest", "--device", "cuda", "--precision", "fp16", "--time", "--filter", "[2, 64, 17, 19]|[2, 64, 16, 16]"],
            env, TimeSpan.FromMinutes(10));
        output.WriteLine(text);
        Assert.Equal(0, code);
        var searches = Regex.Matches(text, "^fake cudnn: search .*$", RegexOptions.Multiline).Select(m => m.Value).ToList();
        Assert.All(searches, s => Assert.StartsWith("fake cudnn: " + traced + " ", s));
        // [2,64,17,19] NCHW, [2,64,17,19] as NHWC ([2,17,19,64]), [2,64,16,16] NCHW: three plans, each searched once.
        Assert.Equal(3, searches.Count);
        Assert.Equal(searches.Count, searches.Distinct().Count());
        int fused = Regex.Matches(text, "^fake cudnn: fused algo 1 ", RegexOptions.Multiline).Count;
        int unfused = Regex.Matches(text, "^fake cudnn: forward algo ", RegexOptions.Multiline).Count;
        Assert.True(fused >= 9 && unfused >= 9, $"{fused} fused and {unfused} unfused calls");
        Assert.DoesNotContain("not supported, unfused from now on", text);
        Assert.Matches(@"cudnn: conv \[2,64,16,16\]\*\[64,64,3,3\] s1 p1 fp16 NCHW: " + search + " best .*; " + Regex.Escape(residualBlockPlan), text);
    }

    /// <summary>A cuDNN failure reaches the user as an error naming the call, the shape and cuDNN's status and message.</summary>
    [EmulatorFact]
    public void CudnnErrorNamesTheCall()
    {
        var env = EmulatorEnv;
        env["LDEMU_CUDNN_FAIL"] = "cudnnConvolutionForward";
        var (code, text) = Run("dotnet", [LdDll, "selftest", "--device", "cuda", "--precision", "fp16", "--filter", "conv2d_cudnn_unfused [2, 64, 17, 19]"], env, TimeSpan.FromMinutes(5));
        output.WriteLine(text);
        Assert.Contains("cudnnConvolutionForward([2,64,17,19]*[64,64,3,3] s2 p1 fp16 NCHW, ", text);
        Assert.Contains("failed: CUDNN_STATUS_EXECUTION_FAILED (5000): cudnnConvolutionForward: failure injected by LDEMU_CUDNN_FAIL", text);
        Assert.Equal(1, code);
    }

    /// <summary>
    /// Where cuDNN declines a call its own search offered ("not supported"), the plan steps down and stays there: a
    /// declined fused call runs unfused from then on, a declined convolution goes to im2col; the results stay right.
    /// </summary>
    [EmulatorTheory]
    [InlineData("cudnnConvolutionBiasActivationForward:3000", "conv2d_add [2, 64, 16, 16]", "the fused call is not supported, unfused from now on")]
    [InlineData("cudnnConvolutionForward:3000", "conv2d [2, 16, 8, 8]", "cuDNN unsupported (cudnnConvolutionForward declined IMPLICIT_GEMM")]
    public void DeclinedCallsStepDownToAnotherPath(string failing, string filter, string says)
    {
        var env = EmulatorEnv;
        env["LDEMU_CUDNN_FAIL"] = failing;
        env["LD_CUDNN_LOG"] = "1";
        var (code, text) = Run("dotnet", [LdDll, "selftest", "--device", "cuda", "--precision", "fp16", "--filter", filter], env, TimeSpan.FromMinutes(5));
        output.WriteLine(text);
        Assert.Contains(says, text);
        Assert.Matches(@"selftest: 1 passed, 0 failed", text);
        Assert.Equal(0, code);
    }

    /// <summary>
    /// Without a usable cuDNN 9 (no library; a cuDNN 8) the backend says why once, in its name, and convolves by
    /// im2col; the cases that need cuDNN are skipped with the reason, not failed.
    /// </summary>
    [EmulatorTheory]
    [InlineData("LD_CUDNN_PATH", "/nonexistent/libcudnn.so.9", "convolutions: im2col (no cuDNN: could not load /nonexistent/libcudnn.so.9 (from LD_CUDNN_PATH))")]
    [InlineData("LDEMU_CUDNN_VERSION", "8907", "cuDNN 8.9.7 is not cuDNN 9 (the engine binds cuDNN 9's API))")]
    public void WithoutCudnnConvolutionsFallBackToIm2col(string variable, string value, string says)
    {
        var env = EmulatorEnv;
        env[variable] = value;
        env["LDEMU_CUDNN_TRACE"] = "1";
        var (code, text) = Run("dotnet", [LdDll, "selftest", "--device", "cuda", "--precision", "fp32", "--filter", "conv2d [1, 8, 9, 7]|conv2d_cudnn_unfused [1, 8, 9, 7]|conv2d_add [2, 64, 16, 16]"],
            env, TimeSpan.FromMinutes(5));
        output.WriteLine(text);
        Assert.Contains(says, text);
        Assert.Matches(@"selftest: 2 passed, 0 failed, 1 skipped", text);
        Assert.Matches(@"SKIP  conv2d_cudnn_unfused \[1, 8, 9, 7\].*\(.*cuDNN", text);
        Assert.DoesNotContain("fake cudnn:", text);
        Assert.Equal(0, code);
    }
}
