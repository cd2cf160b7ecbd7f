using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Interop;

/// <summary>
/// The CUDA driver API (libcuda.so.1), resolved into unmanaged function pointers once. Only what the engine uses:
/// init and device queries, the primary context, streams, events, memory, modules, kernel launches and CUDA graphs
/// (stream capture, instantiate, launch).
/// Every call's status goes through <see cref="Check"/>, which names the call and the status (cuGetErrorName).
/// Device pointers are <c>ulong</c> (CUdeviceptr); handles are <c>nint</c>.
/// </summary>
internal sealed unsafe class CuDriver
{
    public const int Success = 0, ErrorOutOfMemory = 2, ErrorNoDevice = 100;
    /// <summary>CU_STREAM_CAPTURE_MODE_GLOBAL: while capturing, unsafe calls (allocation, synchronisation) from any thread fail.</summary>
    public const int CaptureModeGlobal = 0;

    // Device attributes (CUdevice_attribute).
    public const int AttrMultiprocessorCount = 16, AttrMaxThreadsPerMultiprocessor = 39, AttrComputeMajor = 75, AttrComputeMinor = 76, AttrMaxSharedPerBlockOptin = 97;
    // Function attribute CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES.
    public const int FuncAttrMaxDynamicShared = 8;
    // JIT options (CUjit_option).
    public const int JitInfoLogBuffer = 3, JitInfoLogBufferSize = 4, JitErrorLogBuffer = 5, JitErrorLogBufferSize = 6;

    private static readonly Lazy<(CuDriver? Driver, string Why)> s_instance = new(Load);

    /// <summary>The driver, or null with the reason (no libcuda, too old, cuInit failed).</summary>
    public static CuDriver? TryGet(out string why)
    {
        var (d, w) = s_instance.Value;
        why = w;
        return d;
    }

    public static CuDriver Get() => TryGet(out string why) ?? throw new LdException("CUDA driver unavailable: " + why);

    public string LibraryPath { get; }
    public int DriverVersion { get; private set; }

    public readonly delegate* unmanaged<uint, int> cuInit;
    public readonly delegate* unmanaged<int*, int> cuDriverGetVersion;
    public readonly delegate* unmanaged<int*, int> cuDeviceGetCount;
    public readonly delegate* unmanaged<int*, int, int> cuDeviceGet;
    public readonly delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
    public readonly delegate* unmanaged<int*, int, int, int> cuDeviceGetAttribute;
    public readonly delegate* unmanaged<nuint*, int, int> cuDeviceTotalMem;
    public readonly delegate* unmanaged<nint*, int, int> cuDevicePrimaryCtxRetain;
    public readonly delegate* unmanaged<int, int> cuDevicePrimaryCtxRelease;
    public readonly delegate* unmanaged<nint, int> cuCtxSetCurrent;
    public readonly delegate* unmanaged<int> cuCtxSynchronize;
    public readonly delegate* unmanaged<nint*, uint, int> cuStreamCreate;
    public readonly delegate* unmanaged<nint, int> cuStreamDestroy;
    public readonly delegate* unmanaged<nint, int> cuStreamSynchronize;
    public readonly delegate* unmanaged<nint*, uint, int> cuEventCreate;
    public readonly delegate* unmanaged<nint, int> cuEventDestroy;
    public readonly delegate* unmanaged<nint, nint, int> cuEventRecord;
    public readonly delegate* unmanaged<nint, int> cuEventSynchronize;
    public readonly delegate* unmanaged<float*, nint, nint, int> cuEventElapsedTime;
    public readonly delegate* unmanaged<ulong*, nuint, int> cuMemAlloc;
    public readonly delegate* unmanaged<ulong, int> cuMemFree;
    public readonly delegate* unmanaged<void**, nuint, int> cuMemAllocHost;
    public readonly delegate* unmanaged<void*, int> cuMemFreeHost;
    public readonly delegate* unmanaged<ulong, void*, nuint, int> cuMemcpyHtoD;
    public readonly delegate* unmanaged<void*, ulong, nuint, int> cuMemcpyDtoH;
    public readonly delegate* unmanaged<ulong, ulong, nuint, int> cuMemcpyDtoD;
    public readonly delegate* unmanaged<ulong, void*, nuint, nint, int> cuMemcpyHtoDAsync;
    public readonly delegate* unmanaged<void*, ulong, nuint, nint, int> cuMemcpyDtoHAsync;
    public readonly delegate* unmanaged<ulong, ulong, nuint, nint, int> cuMemcpyDtoDAsync;
    public readonly delegate* unmanaged<ulong, byte, nuint, nint, int> cuMemsetD8Async;
    public readonly delegate* unmanaged<nuint*, nuint*, int> cuMemGetInfo;
    public readonly delegate* unmanaged<nint*, void*, int> cuModuleLoadData;
    public readonly delegate* unmanaged<nint*, void*, uint, int*, void**, int> cuModuleLoadDataEx;
    public readonly delegate* unmanaged<nint, int> cuModuleUnload;
    public readonly delegate* unmanaged<nint*, nint, byte*, int> cuModuleGetFunction;
    public readonly delegate* unmanaged<nint, int, int, int> cuFuncSetAttribute;
    public readonly delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> cuLaunchKernel;
    public readonly delegate* unmanaged<nint, int, int> cuStreamBeginCapture;
    public readonly delegate* unmanaged<nint, nint*, int> cuStreamEndCapture;
    public readonly delegate* unmanaged<nint, nint*, nuint*, int> cuGraphGetNodes;
    public readonly delegate* unmanaged<nint*, nint, ulong, int> cuGraphInstantiateWithFlags;
    public readonly delegate* unmanaged<nint, nint, int> cuGraphLaunch;
    public readonly delegate* unmanaged<nint, int> cuGraphExecDestroy;
    public readonly delegate* unmanaged<nint, int> cuGraphDestroy;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorName;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorString;

    private CuDriver(NativeLib lib)
    {
        LibraryPath = lib.Path;
        cuInit = (delegate* unmanaged<uint, int>)lib.Export("cuInit");
        cuDriverGetVersion = (delegate* unmanaged<int*, int>)lib.Export("cuDriverGetVersion");
        cuDeviceGetCount = (delegate* unmanaged<int*, int>)lib.Export("cuDeviceGetCount");
        cuDeviceGet = (delegate* unmanaged<int*, int, int>)lib.Export("cuDeviceGet");
        cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)lib.Export("cuDeviceGetName");
        cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)lib.Export("cuDeviceGetAttribute");
        cuDeviceTotalMem = (delegate* unmanaged<nuint*, int, int>)lib.Export("cuDeviceTotalMem_v2");
        cuDevicePrimaryCtxRetain = (delegate* unmanaged<nint*, int, int>)lib.Export("cuDevicePrimaryCtxRetain");
        cuDevicePrimaryCtxRelease = (delegate* unmanaged<int, int>)lib.Export("cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
        cuCtxSetCurrent = (delegate* unmanaged<nint, int>)lib.Export("cuCtxSetCurrent");
        cuCtxSynchronize = (delegate* unmanaged<int>)lib.Export("cuCtxSynchronize");
        cuStreamCreate = (delegate* unmanaged<nint*, uint, int>)lib.Export("cuStreamCreate");
        cuStreamDestroy = (delegate* unmanaged<nint, int>)lib.Export("cuStreamDestroy_v2", "cuStreamDestroy");
        cuStreamSynchronize = (delegate* unmanaged<nint, int>)lib.Export("cuStreamSynchronize");
        cuEventCreate = (delegate* unmanaged<nint*, uint, int>)lib.Export("cuEventCreate");
        cuEventDestroy = (delegate* unmanaged<nint, int>)lib.Export("cuEventDestroy_v2", "cuEventDestroy");
        cuEventRecord = (delegate* unmanaged<nint, nint, int>)lib.Export("cuEventRecord");
        cuEventSynchronize = (delegate* unmanaged<nint, int>)lib.Export("cuEventSynchronize");
        // CUDA 12.8 added _v2 (same signature, defined for more event kinds); 13.x headers map the plain name to it.
        cuEventElapsedTime = (delegate* unmanaged<float*, nint, nint, int>)lib.Export("cuEventElapsedTime_v2", "cuEventElapsedTime");
        cuMemAlloc = (delegate* unmanaged<ulong*, nuint, int>)lib.Export("cuMemAlloc_v2");
        cuMemFree = (delegate* unmanaged<ulong, int>)lib.Export("cuMemFree_v2");
        cuMemAllocHost = (delegate* unmanaged<void**, nuint, int>)lib.Export("cuMemAllocHost_v2");
        cuMemFreeHost = (delegate* unmanaged<void*, int>)lib.Export("cuMemFreeHost");
        cuMemcpyHtoD = (delegate* unmanaged<ulong, void*, nuint, int>)lib.Export("cuMemcpyHtoD_v2");
        cuMemcpyDtoH = (delegate* unmanaged<void*, ulong, nuint, int>)lib.Export("cuMemcpyDtoH_v2");
        cuMemcpyDtoD = (delegate* unmanaged<ulong, ulong, nuint, int>)lib.Export("cuMemcpyDtoD_v2");
        cuMemcpyHtoDAsync = (delegate* unmanaged<ulong, void*, nuint, nint, int>)lib.Export("cuMemcpyHtoDAsync_v2");
        cuMemcpyDtoHAsync = (delegate* unmanaged<void*, ulong, nuint, nint, int>)lib.Export("cuMemcpyDtoHAsync_v2");
        cuMemcpyDtoDAsync = (delegate* unmanaged<ulong, ulong, nuint, nint, int>)lib.Export("cuMemcpyDtoDAsync_v2");
        cuMemsetD8Async = (delegate* unmanaged<ulong, byte, nuint, nint, int>)lib.Export("cuMemsetD8Async");
        cuMemGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)lib.Export("cuMemGetInfo_v2");
        cuModuleLoadData = (delegate* unmanaged<nint*, void*, int>)lib.Export("cuModuleLoadData");
        cuModuleLoadDataEx = (delegate* unmanaged<nint*, void*, uint, int*, void**, int>)lib.Export("cuModuleLoadDataEx");
        cuModuleUnload = (delegate* unmanaged<nint, int>)lib.Export("cuModuleUnload");
        cuModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)lib.Export("cuModuleGetFunction");
        cuFuncSetAttribute = (delegate* unmanaged<nint, int, int, int>)lib.Export("cuFuncSetAttribute");
        cuLaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)lib.Export("cuLaunchKernel");
        cuStreamBeginCapture = (delegate* unmanaged<nint, int, int>)lib.Export("cuStreamBeginCapture_v2");
        cuStreamEndCapture = (delegate* unmanaged<nint, nint*, int>)lib.Export("cuStreamEndCapture");
        cuGraphGetNodes = (delegate* unmanaged<nint, nint*, nuint*, int>)lib.Export("cuGraphGetNodes");
        cuGraphInstantiateWithFlags = (delegate* unmanaged<nint*, nint, ulong, int>)lib.Export("cuGraphInstantiateWithFlags");
        cuGraphLaunch = (delegate* unmanaged<nint, nint, int>)lib.Export("cuGraphLaunch");
        cuGraphExecDestroy = (delegate* unmanaged<nint, int>)lib.Export("cuGraphExecDestroy");
        cuGraphDestroy = (delegate* unmanaged<nint, int>)lib.Export("cuGraphDestroy");
        cuGetErrorName = (delegate* unmanaged<int, byte**, int>)lib.Export("cuGetErrorName");
        cuGetErrorString = (delegate* unmanaged<int, byte**, int>)lib.Export("cuGetErrorString");
    }

    private static (CuDriver?, string) Load()
    {
        var lib = NativeLib.TryOpen("LD_CUDA_PATH", ["libcuda.so.1", "libcuda.so", "nvcuda.dll"], out string why);
        if (lib is null) return (null, why + " (no NVIDIA driver)");
        CuDriver d;
        try
        {
            d = new CuDriver(lib);
        }
        catch (LdException e)
        {
            return (null, e.Message);
        }
        int rc = d.cuInit(0);
        if (rc != Success) return (null, $"cuInit failed: {d.ErrorName(rc)} ({rc})");
        int v;
        d.Check(d.cuDriverGetVersion(&v), "cuDriverGetVersion");
        d.DriverVersion = v;
        return (d, "");
    }

    public string ErrorName(int status)
    {
        byte* p = null;
        if (cuGetErrorName(status, &p) != Success || p == null) return "CUDA_ERROR_UNKNOWN_CODE";
        return Marshal.PtrToStringUTF8((nint)p) ?? "?";
    }

    public string ErrorString(int status)
    {
        byte* p = null;
        if (cuGetErrorString(status, &p) != Success || p == null) return "";
        return Marshal.PtrToStringUTF8((nint)p) ?? "";
    }

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> unless the status is success.</summary>
    public void Check(int status, string call)
    {
        if (status != Success) throw new CudaException(call, status, ErrorName(status), ErrorString(status));
    }

    public (long Free, long Total) MemInfo()
    {
        nuint free, total;
        Check(cuMemGetInfo(&free, &total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }
}
