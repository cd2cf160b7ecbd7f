using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Interop;

/// <summary>
/// cuDNN 9's C API (libcudnn.so.9, the shim that loads cuDNN's sub-libraries itself; LD_CUDNN_PATH overrides) resolved
/// into function pointers once, on first use. Only what the convolution path uses: the handle, tensor / filter /
/// convolution / activation descriptors, the algorithm heuristic and search, the workspace query and the two forward
/// calls. Signatures and enum values follow cuDNN 9's cudnn_graph.h, cudnn_ops.h and cudnn_cnn.h. A missing library,
/// a missing export or a major version other than 9 makes <see cref="TryGet"/> return null with the reason; the
/// backend then convolves by im2col and says why in its name.
/// </summary>
internal sealed unsafe class CudnnApi
{
    // cudnnStatus_t: 0 success; the thousands are categories (3xxx: not supported, 4xxx: internal, 5xxx: execution).
    public const int Success = 0, NotSupportedCategory = 3000;
    // cudnnDataType_t
    public const int DataFloat = 0, DataHalf = 2, DataBFloat16 = 9;
    // cudnnTensorFormat_t (also the filter layout: NCHW = KCRS, NHWC = KRSC)
    public const int FormatNchw = 0, FormatNhwc = 1;
    // cudnnMathType_t
    public const int MathDefault = 0, MathTensorOp = 1, MathFma = 3;
    // cudnnConvolutionMode_t: PyTorch's convolution is a cross-correlation (no kernel flip).
    public const int CrossCorrelation = 1;
    // cudnnActivationMode_t, cudnnNanPropagation_t
    public const int ActivationIdentity = 5, NotPropagateNan = 0;
    // cudnnConvolutionFwdAlgo_t: the only algorithm cudnnConvolutionBiasActivationForward accepts with the identity
    // activation is IMPLICIT_PRECOMP_GEMM (cuDNN API reference, cudnnActivationMode_t).
    public const int AlgoImplicitPrecompGemm = 1, AlgoCount = 8;

    /// <summary>sizeof(cudnnConvolutionFwdAlgoPerf_t): algo, status, time, (pad), size_t memory, determinism, mathType, int[3].</summary>
    public const int PerfBytes = 48;

    private static readonly Lazy<(CudnnApi? Api, string Why)> s_instance = new(Load);

    /// <summary>cuDNN 9, or null with the reason it is not usable here.</summary>
    public static CudnnApi? TryGet(out string why)
    {
        var (api, w) = s_instance.Value;
        why = w;
        return api;
    }

    public string LibraryPath { get; }
    public long Version { get; private set; }
    public string VersionText => CudnnVersion.Format(Version);

    public readonly delegate* unmanaged<nuint> cudnnGetVersion;
    public readonly delegate* unmanaged<int, byte*> cudnnGetErrorString;
    public readonly delegate* unmanaged<byte*, nuint, void> cudnnGetLastErrorString; // null where absent
    public readonly delegate* unmanaged<int> cudnnCnnVersionCheck;                  // null where absent
    public readonly delegate* unmanaged<nint*, int> cudnnCreate;
    public readonly delegate* unmanaged<nint, int> cudnnDestroy;
    public readonly delegate* unmanaged<nint, nint, int> cudnnSetStream;
    public readonly delegate* unmanaged<nint*, int> cudnnCreateTensorDescriptor;
    public readonly delegate* unmanaged<nint, int, int, int, int, int, int, int> cudnnSetTensor4dDescriptor;
    public readonly delegate* unmanaged<nint, int> cudnnDestroyTensorDescriptor;
    public readonly delegate* unmanaged<nint*, int> cudnnCreateFilterDescriptor;
    public readonly delegate* unmanaged<nint, int, int, int, int, int, int, int> cudnnSetFilter4dDescriptor;
    public readonly delegate* unmanaged<nint, int> cudnnDestroyFilterDescriptor;
    public readonly delegate* unmanaged<nint*, int> cudnnCreateConvolutionDescriptor;
    public readonly delegate* unmanaged<nint, int, int, int, int, int, int, int, int, int> cudnnSetConvolution2dDescriptor;
    public readonly delegate* unmanaged<nint, int, int> cudnnSetConvolutionMathType;
    public readonly delegate* unmanaged<nint, int> cudnnDestroyConvolutionDescriptor;
    public readonly delegate* unmanaged<nint*, int> cudnnCreateActivationDescriptor;
    public readonly delegate* unmanaged<nint, int, int, double, int> cudnnSetActivationDescriptor;
    public readonly delegate* unmanaged<nint, int> cudnnDestroyActivationDescriptor;
    public readonly delegate* unmanaged<nint, nint, nint, nint, nint, int, int*, void*, int> cudnnGetConvolutionForwardAlgorithm_v7;
    public readonly delegate* unmanaged<nint, nint, ulong, nint, ulong, nint, nint, ulong, int, int*, void*, ulong, nuint, int> cudnnFindConvolutionForwardAlgorithmEx;
    public readonly delegate* unmanaged<nint, nint, nint, nint, nint, int, nuint*, int> cudnnGetConvolutionForwardWorkspaceSize;
    public readonly delegate* unmanaged<nint, float*, nint, ulong, nint, ulong, nint, int, ulong, nuint, float*, nint, ulong, int> cudnnConvolutionForward;
    public readonly delegate* unmanaged<nint, float*, nint, ulong, nint, ulong, nint, int, ulong, nuint, float*, nint, ulong, nint, ulong, nint, nint, ulong, int> cudnnConvolutionBiasActivationForward;

    private CudnnApi(NativeLib lib)
    {
        LibraryPath = lib.Path;
        cudnnGetVersion = (delegate* unmanaged<nuint>)lib.Export("cudnnGetVersion");
        cudnnGetErrorString = (delegate* unmanaged<int, byte*>)lib.Export("cudnnGetErrorString");
        cudnnGetLastErrorString = (delegate* unmanaged<byte*, nuint, void>)lib.TryExport("cudnnGetLastErrorString");
        cudnnCnnVersionCheck = (delegate* unmanaged<int>)lib.TryExport("cudnnCnnVersionCheck");
        cudnnCreate = (delegate* unmanaged<nint*, int>)lib.Export("cudnnCreate");
        cudnnDestroy = (delegate* unmanaged<nint, int>)lib.Export("cudnnDestroy");
        cudnnSetStream = (delegate* unmanaged<nint, nint, int>)lib.Export("cudnnSetStream");
        cudnnCreateTensorDescriptor = (delegate* unmanaged<nint*, int>)lib.Export("cudnnCreateTensorDescriptor");
        cudnnSetTensor4dDescriptor = (delegate* unmanaged<nint, int, int, int, int, int, int, int>)lib.Export("cudnnSetTensor4dDescriptor");
        cudnnDestroyTensorDescriptor = (delegate* unmanaged<nint, int>)lib.Export("cudnnDestroyTensorDescriptor");
        cudnnCreateFilterDescriptor = (delegate* unmanaged<nint*, int>)lib.Export("cudnnCreateFilterDescriptor");
        cudnnSetFilter4dDescriptor = (delegate* unmanaged<nint, int, int, int, int, int, int, int>)lib.Export("cudnnSetFilter4dDescriptor");
        cudnnDestroyFilterDescriptor = (delegate* unmanaged<nint, int>)lib.Export("cudnnDestroyFilterDescriptor");
        cudnnCreateConvolutionDescriptor = (delegate* unmanaged<nint*, int>)lib.Export("cudnnCreateConvolutionDescriptor");
        cudnnSetConvolution2dDescriptor = (delegate* unmanaged<nint, int, int, int, int, int, int, int, int, int>)lib.Export("cudnnSetConvolution2dDescriptor");
        cudnnSetConvolutionMathType = (delegate* unmanaged<nint, int, int>)lib.Export("cudnnSetConvolutionMathType");
        cudnnDestroyConvolutionDescriptor = (delegate* unmanaged<nint, int>)lib.Export("cudnnDestroyConvolutionDescriptor");
        cudnnCreateActivationDescriptor = (delegate* unmanaged<nint*, int>)lib.Export("cudnnCreateActivationDescriptor");
        cudnnSetActivationDescriptor = (delegate* unmanaged<nint, int, int, double, int>)lib.Export("cudnnSetActivationDescriptor");
        cudnnDestroyActivationDescriptor = (delegate* unmanaged<nint, int>)lib.Export("cudnnDestroyActivationDescriptor");
        cudnnGetConvolutionForwardAlgorithm_v7 = (delegate* unmanaged<nint, nint, nint, nint, nint, int, int*, void*, int>)lib.Export("cudnnGetConvolutionForwardAlgorithm_v7");
        cudnnFindConvolutionForwardAlgorithmEx = (delegate* unmanaged<nint, nint, ulong, nint, ulong, nint, nint, ulong, int, int*, void*, ulong, nuint, int>)lib.Export("cudnnFindConvolutionForwardAlgorithmEx");
        cudnnGetConvolutionForwardWorkspaceSize = (delegate* unmanaged<nint, nint, nint, nint, nint, int, nuint*, int>)lib.Export("cudnnGetConvolutionForwardWorkspaceSize");
        cudnnConvolutionForward = (delegate* unmanaged<nint, float*, nint, ulong, nint, ulong, nint, int, ulong, nuint, float*, nint, ulong, int>)lib.Export("cudnnConvolutionForward");
        cudnnConvolutionBiasActivationForward = (delegate* unmanaged<nint, float*, nint, ulong, nint, ulong, nint, int, ulong, nuint, float*, nint, ulong, nint, ulong, nint, nint, ulong, int>)lib.Export("cudnnConvolutionBiasActivationForward");
    }

    private static (CudnnApi?, string) Load()
    {
        var lib = NativeLib.TryOpen("LD_CUDNN_PATH", ["libcudnn.so.9", "libcudnn.so", "cudnn64_9.dll"], out string why);
        if (lib is null) return (null, why);
        CudnnApi api;
        try
        {
            api = new CudnnApi(lib);
        }
        catch (LdException e)
        {
            return (null, e.Message);
        }
        api.Version = (long)api.cudnnGetVersion();
        if (CudnnVersion.Problem(api.Version) is { } problem) return (null, $"{lib.Path}: {problem}");
        // The convolution functions live in the cnn sub-library, which the shim loads on demand: ask for it now, so a
        // broken install falls back to im2col here instead of failing at the first convolution.
        int rc = api.cudnnCnnVersionCheck == null ? Success : api.cudnnCnnVersionCheck();
        if (rc != Success)
            return (null, $"{lib.Path}: cudnnCnnVersionCheck failed: {api.StatusName(rc)} ({rc}) {api.LastError()}".TrimEnd());
        return (api, "");
    }

    public string StatusName(int status)
    {
        byte* p = cudnnGetErrorString(status);
        return p == null ? "CUDNN_STATUS_UNKNOWN" : Marshal.PtrToStringUTF8((nint)p) ?? "?";
    }

    /// <summary>cuDNN 9's description of the last error on this thread (what was wrong with which argument), or "".</summary>
    public string LastError()
    {
        if (cudnnGetLastErrorString == null) return "";
        byte* buf = stackalloc byte[1024];
        buf[0] = 0;
        cudnnGetLastErrorString(buf, 1024);
        buf[1023] = 0;
        return (Marshal.PtrToStringUTF8((nint)buf) ?? "").Trim();
    }

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> unless the status is success.</summary>
    public void Check(int status, string call)
    {
        if (status != Success) throw Error(status, call);
    }

    public CudaException Error(int status, string call) => new(call, status, StatusName(status), LastError());

    /// <summary>Not supported (3xxx): this configuration has no kernel here, which callers may work around.</summary>
    public static bool IsNotSupported(int status) => status / 1000 * 1000 == NotSupportedCategory;
}

/// <summary>cudnnGetVersion's number (major·10000 + minor·100 + patch since cuDNN 9; major·1000 + … before) and the check for 9.</summary>
public static class CudnnVersion
{
    public static string Format(long v) => v >= 10000 ? $"{v / 10000}.{v / 100 % 100}.{v % 100}" : $"{v / 1000}.{v / 100 % 10}.{v % 100}";

    /// <summary>Why this version cannot be used (the engine binds cuDNN 9's API), or null.</summary>
    public static string? Problem(long v) => v / 10000 == 9 ? null : $"cuDNN {Format(v)} is not cuDNN 9 (the engine binds cuDNN 9's API)";
}
