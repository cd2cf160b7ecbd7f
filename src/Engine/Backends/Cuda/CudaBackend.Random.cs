using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Random;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>The GPU noise source: torch's CUDA randn computed by kernels/random.cu.</summary>
public sealed unsafe partial class CudaBackend : IPhiloxNormalDevice
{
    public int MultiprocessorCount => _device.MultiprocessorCount;
    public int MaxThreadsPerMultiprocessor => _device.MaxThreadsPerMultiprocessor;

    /// <summary>Always fp32, whatever the storage precision: the noise is the sampler's, not a network's.</summary>
    public float[] PhiloxNormal(ulong seed, ulong baseBlock, long threads, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1L);
        var result = new float[n];
        if (n == 0) return result;
        var buf = Scratch((long)n * sizeof(float));
        try
        {
            Launch(new LdRandnPhiloxF32(seed, baseBlock, threads, n, buf.Ptr), Stride(Math.Min(threads, n)));
            fixed (float* p = result) _drv.Check(_drv.cuMemcpyDtoHAsync(p, buf.Ptr, (nuint)((long)n * sizeof(float)), _stream.Raw), "cuMemcpyDtoHAsync");
            _stream.Synchronize();
        }
        finally { buf.Release(); }
        return result;
    }
}
