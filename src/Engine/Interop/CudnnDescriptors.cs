using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Interop;

/// <summary>
/// Owner of one cuDNN descriptor: created and set in the constructor (a failed set destroys it again), destroyed on
/// dispose or by the finalizer. Descriptors are host-side objects: no device context is needed to release them.
/// </summary>
internal abstract unsafe class CudnnDescriptor : SafeHandle
{
    protected CudnnDescriptor(CudnnApi api) : base(0, true) => Api = api;

    protected CudnnApi Api { get; }
    public override bool IsInvalid => handle == 0;

    /// <summary>The raw descriptor for a call (the owner keeps it alive for the call's duration).</summary>
    public nint Raw => handle;

    /// <summary>The status of a setter on the adopted descriptor: on failure the descriptor is destroyed and the error thrown.</summary>
    protected void Set(int status, string call)
    {
        if (status == CudnnApi.Success) return;
        var e = Api.Error(status, call);
        Dispose();
        throw e;
    }
}

/// <summary>A 4-D tensor descriptor (cudnnSetTensor4dDescriptor: packed NCHW or NHWC strides).</summary>
internal sealed unsafe class CudnnTensorDescriptor : CudnnDescriptor
{
    public CudnnTensorDescriptor(CudnnApi api, int format, int dataType, int n, int c, int h, int w) : base(api)
    {
        nint d;
        api.Check(api.cudnnCreateTensorDescriptor(&d), "cudnnCreateTensorDescriptor");
        SetHandle(d);
        Set(api.cudnnSetTensor4dDescriptor(d, format, dataType, n, c, h, w),
            $"cudnnSetTensor4dDescriptor({(format == CudnnApi.FormatNhwc ? "NHWC" : "NCHW")} [{n},{c},{h},{w}] type {dataType})");
    }

    protected override bool ReleaseHandle() => Api.cudnnDestroyTensorDescriptor(handle) == CudnnApi.Success;
}

/// <summary>A 4-D filter descriptor [K, C, R, S] (cudnnSetFilter4dDescriptor: the data type comes before the format).</summary>
internal sealed unsafe class CudnnFilterDescriptor : CudnnDescriptor
{
    public CudnnFilterDescriptor(CudnnApi api, int dataType, int format, int k, int c, int r, int s) : base(api)
    {
        nint d;
        api.Check(api.cudnnCreateFilterDescriptor(&d), "cudnnCreateFilterDescriptor");
        SetHandle(d);
        Set(api.cudnnSetFilter4dDescriptor(d, dataType, format, k, c, r, s), $"cudnnSetFilter4dDescriptor([{k},{c},{r},{s}] type {dataType})");
    }

    protected override bool ReleaseHandle() => Api.cudnnDestroyFilterDescriptor(handle) == CudnnApi.Success;
}

/// <summary>
/// A 2-D cross-correlation with square stride and symmetric padding, no dilation, accumulating in
/// the compute type, with the math type (tensor cores or not) an algorithm was found for.
/// </summary>
internal sealed unsafe class CudnnConvolutionDescriptor : CudnnDescriptor
{
    public CudnnConvolutionDescriptor(CudnnApi api, int padding, int stride, int computeType, int mathType) : base(api)
    {
        nint d;
        api.Check(api.cudnnCreateConvolutionDescriptor(&d), "cudnnCreateConvolutionDescriptor");
        SetHandle(d);
        Set(api.cudnnSetConvolution2dDescriptor(d, padding, padding, stride, stride, 1, 1, CudnnApi.CrossCorrelation, computeType),
            $"cudnnSetConvolution2dDescriptor(pad {padding}, stride {stride})");
        Set(api.cudnnSetConvolutionMathType(d, mathType), $"cudnnSetConvolutionMathType({mathType})");
        MathType = mathType;
    }

    public int MathType { get; }

    protected override bool ReleaseHandle() => Api.cudnnDestroyConvolutionDescriptor(handle) == CudnnApi.Success;
}

/// <summary>The identity activation of cudnnConvolutionBiasActivationForward (bias and residual add, nothing after).</summary>
internal sealed unsafe class CudnnActivationDescriptor : CudnnDescriptor
{
    public CudnnActivationDescriptor(CudnnApi api) : base(api)
    {
        nint d;
        api.Check(api.cudnnCreateActivationDescriptor(&d), "cudnnCreateActivationDescriptor");
        SetHandle(d);
        Set(api.cudnnSetActivationDescriptor(d, CudnnApi.ActivationIdentity, CudnnApi.NotPropagateNan, 0.0), "cudnnSetActivationDescriptor(IDENTITY)");
    }

    protected override bool ReleaseHandle() => Api.cudnnDestroyActivationDescriptor(handle) == CudnnApi.Success;
}
