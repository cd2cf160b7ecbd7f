using LayerDiffusion.Native.Interop;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>
/// Benchmark support: CUDA-event timing on the backend's stream, the pool's peak (this backend and its fp32 sibling,
/// which holds the VAE-family networks) and the driver's free/total memory.
/// </summary>
public sealed unsafe partial class CudaBackend : IBackendDiagnostics
{
    public string DeviceName => _device.Describe();
    public string Driver => $"{_device.DriverVersion / 1000}.{_device.DriverVersion % 1000 / 10}";

    /// <summary>
    /// Elapsed time between events recorded before and after the work on this backend's stream. Work that ends in a
    /// ToHost (a synchronising copy) is fully inside the interval; work queued on the fp32 sibling's stream and not
    /// read back is not, so time such work through a read-back.
    /// </summary>
    public double TimeMs(Action work)
    {
        _device.MakeCurrent();
        using var start = new CudaEvent(_device);
        using var end = new CudaEvent(_device);
        _stream.Synchronize();
        start.Record(_stream);
        work();
        _device.MakeCurrent();
        end.Record(_stream);
        return start.ElapsedMs(end);
    }

    public long PeakBytes => Pool.PeakBytes + (_fp32Sibling?.Pool.PeakBytes ?? 0);

    public void ResetPeak()
    {
        Pool.ResetPeak();
        _fp32Sibling?.Pool.ResetPeak();
    }

    public long InUseBytes => Pool.InUseBytes + (_fp32Sibling?.Pool.InUseBytes ?? 0);

    public long WeightBytes => Pool.WeightBytes + (_fp32Sibling?.Pool.WeightBytes ?? 0);

    public (long Free, long Total) MemoryInfo() => _device.MemoryInfo();
}
