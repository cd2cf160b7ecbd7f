using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Interop;

/// <summary>Base of the owners of driver objects: releasing makes the context current first (finalizer threads).</summary>
public abstract class CudaHandle : SafeHandle
{
    protected CudaHandle(CudaDevice device) : base(0, true) => Device = device;

    public CudaDevice Device { get; }
    internal CuDriver Driver => Device.Driver;
    public override bool IsInvalid => handle == 0;

    protected sealed override bool ReleaseHandle()
    {
        if (!Device.TryMakeCurrent()) return false;
        return Release();
    }

    protected abstract bool Release();
}

/// <summary>A CUDA stream (non-blocking with respect to the legacy default stream).</summary>
public sealed unsafe class CudaStream : CudaHandle
{
    public CudaStream(CudaDevice device) : base(device)
    {
        device.MakeCurrent();
        nint s;
        Driver.Check(Driver.cuStreamCreate(&s, 1 /* CU_STREAM_NON_BLOCKING */), "cuStreamCreate");
        SetHandle(s);
    }

    public nint Raw => handle;
    public void Synchronize() => Driver.Check(Driver.cuStreamSynchronize(handle), "cuStreamSynchronize");
    protected override bool Release() => Driver.cuStreamDestroy(handle) == CuDriver.Success;
}

/// <summary>A CUDA event used for timing (<see cref="ElapsedMs"/>) and ordering.</summary>
public sealed unsafe class CudaEvent : CudaHandle
{
    public CudaEvent(CudaDevice device) : base(device)
    {
        device.MakeCurrent();
        nint e;
        Driver.Check(Driver.cuEventCreate(&e, 0 /* CU_EVENT_DEFAULT: timing enabled */), "cuEventCreate");
        SetHandle(e);
    }

    public void Record(CudaStream stream) => Driver.Check(Driver.cuEventRecord(handle, stream.Raw), "cuEventRecord");
    public void Synchronize() => Driver.Check(Driver.cuEventSynchronize(handle), "cuEventSynchronize");

    /// <summary>Milliseconds between two recorded events (waits for <paramref name="end"/>).</summary>
    public float ElapsedMs(CudaEvent end)
    {
        end.Synchronize();
        float ms;
        Driver.Check(Driver.cuEventElapsedTime(&ms, handle, end.handle), "cuEventElapsedTime");
        return ms;
    }

    protected override bool Release() => Driver.cuEventDestroy(handle) == CuDriver.Success;
}

/// <summary>
/// A plain device allocation (cuMemAlloc). Out of memory becomes an <see cref="LdException"/> that says how many
/// bytes were requested and how many were free.
/// </summary>
public sealed unsafe class DeviceMemory : CudaHandle
{
    /// <summary>How an out-of-memory error begins (callers that only keep the message recognise it by this).</summary>
    public const string OutOfMemoryText = "out of GPU memory";

    public DeviceMemory(CudaDevice device, long bytes) : base(device)
    {
        device.MakeCurrent();
        ulong p;
        int rc = Driver.cuMemAlloc(&p, (nuint)Math.Max(1, bytes));
        if (rc == CuDriver.ErrorOutOfMemory)
        {
            var (free, total) = Driver.MemInfo();
            throw new LdException($"{OutOfMemoryText}: requested {bytes} bytes ({bytes / 1048576.0:F1} MiB), {free} bytes ({free / 1048576.0:F1} MiB) free of {total / 1048576.0:F0} MiB on {device.Name}") { Kind = ErrorKind.OutOfMemory };
        }
        Driver.Check(rc, "cuMemAlloc");
        SetHandle((nint)p);
        Bytes = bytes;
    }

    public long Bytes { get; }
    public ulong Ptr => (ulong)handle;
    protected override bool Release() => Driver.cuMemFree((ulong)handle) == CuDriver.Success;
}

/// <summary>Page-locked host memory (cuMemAllocHost): the staging area of asynchronous uploads.</summary>
public sealed unsafe class PinnedHostMemory : CudaHandle
{
    public PinnedHostMemory(CudaDevice device, long bytes) : base(device)
    {
        device.MakeCurrent();
        void* p;
        Driver.Check(Driver.cuMemAllocHost(&p, (nuint)bytes), "cuMemAllocHost");
        SetHandle((nint)p);
        Bytes = bytes;
    }

    public long Bytes { get; }
    public byte* Pointer => (byte*)handle;
    public Span<byte> Span => new((void*)handle, checked((int)Bytes));
    protected override bool Release() => Driver.cuMemFreeHost((void*)handle) == CuDriver.Success;
}

/// <summary>A loaded module (PTX JIT-compiled by the driver, or a cubin / fatbin) and its kernels by name.</summary>
public sealed unsafe class CudaModule : CudaHandle
{
    private readonly Dictionary<string, nint> _functions = new(StringComparer.Ordinal);

    /// <summary>Loads PTX text or a cubin/fatbin image. PTX compile errors come back with the JIT's error log.</summary>
    public CudaModule(CudaDevice device, ReadOnlySpan<byte> image, string source) : base(device)
    {
        Source = source;
        device.MakeCurrent();
        // PTX must be NUL-terminated; a copy with a trailing 0 is harmless for binary images too.
        var data = new byte[image.Length + 1];
        image.CopyTo(data);
        const int LogSize = 16384;
        var errorLog = new byte[LogSize];
        nint m;
        int rc;
        fixed (byte* pData = data)
        fixed (byte* pLog = errorLog)
        {
            int* options = stackalloc int[] { CuDriver.JitErrorLogBuffer, CuDriver.JitErrorLogBufferSize };
            void** values = stackalloc void*[] { pLog, (void*)LogSize };
            rc = Driver.cuModuleLoadDataEx(&m, pData, 2, options, values);
        }
        if (rc != CuDriver.Success)
        {
            int len = Array.IndexOf(errorLog, (byte)0);
            string log = System.Text.Encoding.UTF8.GetString(errorLog, 0, len < 0 ? LogSize : len).Trim();
            throw new CudaException($"cuModuleLoadDataEx({source})", rc, Driver.ErrorName(rc), log.Length > 0 ? log : Driver.ErrorString(rc));
        }
        SetHandle(m);
    }

    public string Source { get; }

    public bool TryGetFunction(string name, out nint function)
    {
        lock (_functions)
        {
            if (_functions.TryGetValue(name, out function)) return true;
            nint f;
            int rc;
            var bytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
            fixed (byte* p = bytes) rc = Driver.cuModuleGetFunction(&f, handle, p);
            if (rc != CuDriver.Success) return false;
            _functions[name] = function = f;
            return true;
        }
    }

    protected override bool Release() => Driver.cuModuleUnload(handle) == CuDriver.Success;
}
