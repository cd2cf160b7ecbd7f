namespace LayerDiffusion.Native.Interop;

/// <summary>
/// One forward convolution as cuDNN sees it: input [N, C, H, W], filter [K, C, R, S], square stride, symmetric
/// padding, the storage type (cudnnDataType_t) of input, filter, output, bias and residual, NCHW or NHWC (KCRS or KRSC
/// filter), and for fp32 whether TF32 tensor cores are allowed. Accumulation is always fp32 (CUDNN_DATA_FLOAT).
/// </summary>
public readonly record struct ConvSpec(int N, int C, int H, int W, int K, int R, int S, int Stride, int Padding, int DataType, bool Nhwc, bool Tf32)
{
    public int OutH => (H + 2 * Padding - R) / Stride + 1;
    public int OutW => (W + 2 * Padding - S) / Stride + 1;
    public int Format => Nhwc ? CudnnApi.FormatNhwc : CudnnApi.FormatNchw;

    /// <summary>
    /// The math type asked for: tensor cores for fp16 / bf16 (fp32 accumulation), and for fp32 only where TF32 is
    /// allowed; strict fp32 is CUDNN_FMA_MATH, because CUDNN_DEFAULT_MATH permits TF32 on Ampere and newer.
    /// </summary>
    public int MathType => DataType == CudnnApi.DataFloat && !Tf32 ? CudnnApi.MathFma : CudnnApi.MathTensorOp;

    public string TypeName => DataType switch { CudnnApi.DataHalf => "fp16", CudnnApi.DataBFloat16 => "bf16", _ => Tf32 ? "fp32/tf32" : "fp32" };

    public override string ToString() =>
        $"[{N},{C},{H},{W}]*[{K},{C},{R},{S}] s{Stride} p{Padding} {TypeName} {(Nhwc ? "NHWC" : "NCHW")}";
}

/// <summary>One candidate of cudnnConvolutionFwdAlgoPerf_t: the algorithm, the math type it runs in, its time and workspace.</summary>
public readonly record struct ConvAlgorithm(int Algo, int MathType, float Milliseconds, long WorkspaceBytes)
{
    public static string AlgoName(int algo) => algo switch
    {
        0 => "IMPLICIT_GEMM", 1 => "IMPLICIT_PRECOMP_GEMM", 2 => "GEMM", 3 => "DIRECT", 4 => "FFT", 5 => "FFT_TILING",
        6 => "WINOGRAD", 7 => "WINOGRAD_NONFUSED", _ => $"algo {algo}",
    };

    public static string MathName(int math) => math switch { 0 => "default math", 1 => "tensor ops", 2 => "tensor ops with conversion", 3 => "FMA", _ => $"math {math}" };

    public override string ToString() =>
        $"{AlgoName(Algo)} ({(float.IsNaN(Milliseconds) ? "heuristic" : $"{Milliseconds:0.###} ms")}, workspace "
        + (WorkspaceBytes < 1 << 20 ? $"{WorkspaceBytes} B" : $"{WorkspaceBytes / 1048576.0:0.##} MiB") + $", {MathName(MathType)})";
}

/// <summary>
/// How one <see cref="ConvSpec"/> runs, decided once per process by the algorithm search: the best algorithm for
/// cudnnConvolutionForward and, where the fused call fits, the IMPLICIT_PRECOMP_GEMM algorithm for
/// cudnnConvolutionBiasActivationForward (bias and residual in the convolution's epilogue). The descriptors are
/// built once here and reused by every call of the shape.
/// </summary>
public sealed class CudnnConvPlan
{
    /// <summary>
    /// The fused call (IMPLICIT_PRECOMP_GEMM) is taken when the search timed it within this factor of the fastest
    /// algorithm. The separate epilogue it saves costs about 5 passes over the output (bias: read + write; residual
    /// add: two reads + a write), e.g. ~20 µs + two launches beside a 0.2 ms 640-channel 3×3 convolution at 64² (b2),
    /// about 10 %.
    /// </summary>
    public const float FusedMargin = 1.10f;

    internal CudnnConvPlan(ConvSpec spec, CudnnApi api)
    {
        Spec = spec;
        int dt = spec.DataType, fmt = spec.Format;
        X = new CudnnTensorDescriptor(api, fmt, dt, spec.N, spec.C, spec.H, spec.W);
        Y = new CudnnTensorDescriptor(api, fmt, dt, spec.N, spec.K, spec.OutH, spec.OutW);
        Filter = new CudnnFilterDescriptor(api, dt, fmt, spec.K, spec.C, spec.R, spec.S);
        Bias = new CudnnTensorDescriptor(api, fmt, dt, 1, spec.K, 1, 1);
        Search = new CudnnConvolutionDescriptor(api, spec.Padding, spec.Stride, CudnnApi.DataFloat, spec.MathType);
    }

    public ConvSpec Spec { get; }
    internal CudnnTensorDescriptor X { get; }
    internal CudnnTensorDescriptor Y { get; }
    internal CudnnFilterDescriptor Filter { get; }
    internal CudnnTensorDescriptor Bias { get; }
    /// <summary>The descriptor the search ran with (the requested math type).</summary>
    internal CudnnConvolutionDescriptor Search { get; }

    /// <summary>The fastest usable algorithm for cudnnConvolutionForward (null: none, see <see cref="Unsupported"/>).</summary>
    public ConvAlgorithm? Best { get; internal set; }
    internal CudnnConvolutionDescriptor? BestConv { get; set; }

    /// <summary>IMPLICIT_PRECOMP_GEMM for the fused call, or null where the search did not offer it or timed it too slow.</summary>
    public ConvAlgorithm? Fused { get; internal set; }
    internal CudnnConvolutionDescriptor? FusedConv { get; set; }

    /// <summary>Why cuDNN cannot run this shape (no usable algorithm), or null.</summary>
    public string? Unsupported { get; internal set; }

    /// <summary>How the search was made: "find" (timed on the device) or "heuristic".</summary>
    public string Method { get; internal set; } = "";

    public string Describe() =>
        Unsupported is not null ? $"conv {Spec}: cuDNN unsupported ({Unsupported})"
        : $"conv {Spec}: {Method} best {Best}; {(Fused is { } f ? $"fused bias/residual via {f}" : "bias/residual unfused")}";
}
