using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>LD_CUDA_SYNC=1: wait after every launch, so an asynchronous fault is reported with the kernel's name.</summary>
    private static readonly bool s_syncEachLaunch = Environment.GetEnvironmentVariable("LD_CUDA_SYNC") == "1";

    /// <summary>
    /// Launches a kernel on the backend's stream. <paramref name="args"/> holds one pointer per kernel parameter, in
    /// order, each to a local of exactly the parameter's type (ulong device pointers, long for long long, int, float,
    /// or a struct laid out like the kernel's).
    /// </summary>
    internal void Launch(string kernel, uint gridX, uint block, void** args, uint gridY = 1, uint gridZ = 1, uint sharedBytes = 0)
    {
        if (gridX == 0 || gridY == 0 || gridZ == 0) return;
        _device.MakeCurrent();
        nint f = _kernels.Get(kernel);
        _drv.Check(_drv.cuLaunchKernel(f, gridX, gridY, gridZ, block, 1, 1, sharedBytes, _stream.Raw, args, null), $"cuLaunchKernel({kernel})");
        if (s_syncEachLaunch) _drv.Check(_drv.cuStreamSynchronize(_stream.Raw), $"{kernel} (LD_CUDA_SYNC)");
    }

    /// <summary>Blocks for a grid-stride loop over n elements: enough to fill the GPU, no more.</summary>
    internal uint Blocks(long n, int block = 256) =>
        (uint)Math.Clamp((n + block - 1) / block, 1, (long)_device.MultiprocessorCount * 16);

    /// <summary>Converts n elements between storage dtypes (device to device).</summary>
    internal void Cast(ulong src, DType from, ulong dst, DType to, long n)
    {
        if (n == 0) return;
        void** a = stackalloc void*[] { &n, &src, &dst };
        Launch($"ld_cast_{Suffix(from)}_{Suffix(to)}", Blocks(n), 256, a);
    }

    /// <summary>Kernel suffix for pure data movement: the element size.</summary>
    internal string SizeSuffix => ElementSize == 2 ? "u16" : "u32";
}
