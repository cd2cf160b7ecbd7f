using System.Runtime.InteropServices;
using System.Text;

namespace LayerDiffusion.Native.Interop;

/// <summary>
/// One GPU and its primary context (the context the runtime API and cuBLASLt also use). The device is picked by
/// LD_CUDA_DEVICE (an ordinal, default 0). The context is made current on a thread before any call from that thread,
/// including the finalizer thread that releases forgotten buffers.
/// </summary>
public sealed unsafe class CudaDevice : SafeHandle
{
    private static readonly Lazy<(CudaDevice? Device, string Why)> s_default = new(Open);
    [ThreadStatic] private static nint t_current;

    private CudaDevice(CuDriver driver, int ordinal, nint context) : base(0, true)
    {
        Driver = driver;
        Ordinal = ordinal;
        SetHandle(context);
        byte* name = stackalloc byte[256];
        driver.Check(driver.cuDeviceGetName(name, 256, ordinal), "cuDeviceGetName");
        Name = Marshal.PtrToStringUTF8((nint)name) ?? "?";
        ComputeMajor = DeviceAttribute(CuDriver.AttrComputeMajor);
        ComputeMinor = DeviceAttribute(CuDriver.AttrComputeMinor);
        MultiprocessorCount = DeviceAttribute(CuDriver.AttrMultiprocessorCount);
        MaxThreadsPerMultiprocessor = DeviceAttribute(CuDriver.AttrMaxThreadsPerMultiprocessor);
        MaxSharedPerBlockOptin = DeviceAttribute(CuDriver.AttrMaxSharedPerBlockOptin);
        nuint total;
        driver.Check(driver.cuDeviceTotalMem(&total, ordinal), "cuDeviceTotalMem");
        TotalMemory = (long)total;
    }

    internal CuDriver Driver { get; }
    public int Ordinal { get; }
    public string Name { get; }
    public int ComputeMajor { get; }
    public int ComputeMinor { get; }
    public int MultiprocessorCount { get; }
    public int MaxThreadsPerMultiprocessor { get; }
    public int MaxSharedPerBlockOptin { get; }
    public long TotalMemory { get; }
    public int DriverVersion => Driver.DriverVersion;

    public override bool IsInvalid => handle == 0;

    /// <summary>The default GPU, or null with the reason none is usable (no driver, no device, init failure).</summary>
    public static CudaDevice? TryGetDefault(out string why)
    {
        var (d, w) = s_default.Value;
        why = w;
        return d;
    }

    private static (CudaDevice?, string) Open()
    {
        var drv = CuDriver.TryGet(out string why);
        if (drv is null) return (null, why);
        try
        {
            int count;
            drv.Check(drv.cuDeviceGetCount(&count), "cuDeviceGetCount");
            if (count == 0) return (null, "the driver sees no CUDA device");
            int ordinal = 0;
            var env = Environment.GetEnvironmentVariable("LD_CUDA_DEVICE");
            if (!string.IsNullOrEmpty(env) && (!int.TryParse(env, out ordinal) || ordinal < 0 || ordinal >= count))
                return (null, $"LD_CUDA_DEVICE={env} is not a device ordinal in [0, {count})");
            int dev;
            drv.Check(drv.cuDeviceGet(&dev, ordinal), "cuDeviceGet");
            nint ctx;
            drv.Check(drv.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
            var d = new CudaDevice(drv, dev, ctx);
            d.MakeCurrent();
            return (d, "");
        }
        catch (LdException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Makes the primary context current on the calling thread (once per thread).</summary>
    public void MakeCurrent()
    {
        if (t_current == handle) return;
        Driver.Check(Driver.cuCtxSetCurrent(handle), "cuCtxSetCurrent");
        t_current = handle;
    }

    /// <summary>For release paths (finalizers): never throws.</summary>
    internal bool TryMakeCurrent()
    {
        if (IsClosed) return false;
        if (t_current == handle) return true;
        if (Driver.cuCtxSetCurrent(handle) != CuDriver.Success) return false;
        t_current = handle;
        return true;
    }

    public int DeviceAttribute(int attribute)
    {
        int v;
        Driver.Check(Driver.cuDeviceGetAttribute(&v, attribute, Ordinal), "cuDeviceGetAttribute");
        return v;
    }

    public void Synchronize() => Driver.Check(Driver.cuCtxSynchronize(), "cuCtxSynchronize");

    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        return Driver.MemInfo();
    }

    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append($"{Name} (sm_{ComputeMajor}{ComputeMinor}, {MultiprocessorCount} SMs, {TotalMemory / (1024 * 1024)} MiB, driver {DriverVersion / 1000}.{DriverVersion % 1000 / 10})");
        return sb.ToString();
    }

    protected override bool ReleaseHandle()
    {
        Driver.cuDevicePrimaryCtxRelease(Ordinal);
        return true;
    }
}
