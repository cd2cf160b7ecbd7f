using LayerDiffusion.Native.Interop;
using Xunit;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>The cuDNN binding's host-side rules: version numbers, the math type per precision, the shapes it describes.</summary>
public sealed class CudnnHostSideTests
{
    [Theory]
    [InlineData(91400, "9.14.0", true)]
    [InlineData(90000, "9.0.0", true)]
    [InlineData(8907, "8.9.7", false)]      // cuDNN 8 numbered major·1000 + minor·100 + patch
    [InlineData(100100, "10.1.0", false)]
    public void OnlyCudnn9IsAccepted(long version, string text, bool accepted)
    {
        Assert.Equal(text, CudnnVersion.Format(version));
        var problem = CudnnVersion.Problem(version);
        Assert.Equal(accepted, problem is null);
        if (!accepted) Assert.Contains($"cuDNN {text} is not cuDNN 9", problem);
    }

    [Fact]
    public void StrictFp32NeverAsksForTensorCores()
    {
        // CUDNN_DEFAULT_MATH permits TF32 on Ampere and newer, so strict fp32 must ask for CUDNN_FMA_MATH (3).
        Assert.Equal(CudnnApi.MathFma, Spec(CudnnApi.DataFloat, tf32: false).MathType);
        Assert.Equal(CudnnApi.MathTensorOp, Spec(CudnnApi.DataFloat, tf32: true).MathType);
        Assert.Equal(CudnnApi.MathTensorOp, Spec(CudnnApi.DataHalf, tf32: false).MathType);
        Assert.Equal(CudnnApi.MathTensorOp, Spec(CudnnApi.DataBFloat16, tf32: false).MathType);
    }

    [Fact]
    public void SpecDescribesTheOutputAndItsKey()
    {
        var s = new ConvSpec(2, 64, 17, 19, 32, 3, 3, 2, 1, CudnnApi.DataHalf, Nhwc: false, Tf32: false);
        Assert.Equal((9, 10), (s.OutH, s.OutW));
        Assert.Equal("[2,64,17,19]*[32,64,3,3] s2 p1 fp16 NCHW", s.ToString());
        Assert.NotEqual(s, s with { Nhwc = true });   // layouts are planned separately
        Assert.NotEqual(s, s with { DataType = CudnnApi.DataBFloat16 });
    }

    private static ConvSpec Spec(int dataType, bool tf32) => new(1, 8, 8, 8, 8, 3, 3, 1, 1, dataType, false, tf32);
}
