using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>LD_CUDA_SYNC=1: wait after every launch, so an asynchronous fault is reported with the kernel's name.</summary>
    private static readonly bool s_syncEachLaunch = Environment.GetEnvironmentVariable("LD_CUDA_SYNC") == "1";

    /// <summary>Kernels launched and GEMMs issued so far (selftest cases assert per-op counts from them).</summary>
    public long KernelLaunches { get; private set; }
    public long GemmCalls { get; private set; }

    /// <summary>Launches <typeparamref name="T"/>'s kernel for this backend's storage type (or its only kernel).</summary>
    internal void Launch<T>(in T args, Grid grid) where T : unmanaged, IKernelArgs => Launch(T.Kernel.For(StorageType), args, grid);

    /// <summary>Launches <typeparamref name="T"/>'s instance for storage type <paramref name="type"/>.</summary>
    internal void Launch<T>(in T args, DType type, Grid grid) where T : unmanaged, IKernelArgs => Launch(T.Kernel.For(type), args, grid);

    /// <summary>Launches the cast kernel from <paramref name="from"/> to <paramref name="to"/>.</summary>
    internal void Launch<T>(in T args, DType from, DType to, Grid grid) where T : unmanaged, IKernelArgs => Launch(T.Kernel.For(from, to), args, grid);

    /// <summary>
    /// Hands the driver one pointer per kernel parameter into <paramref name="args"/>, at the offsets the kernel's PTX
    /// declares; a struct whose size does not match the kernel's parameter block is refused before anything runs.
    /// </summary>
    private void Launch<T>(string kernel, in T args, Grid grid) where T : unmanaged
    {
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0) return;
        _device.MakeCurrent();
        var (f, layout) = _kernels.Get(kernel);
        if (!layout.Fits(sizeof(T)))
            throw new LdException($"kernel {kernel}: its parameters take {layout.Size} bytes, the launcher's {typeof(T).Name} {sizeof(T)}; the kernels and the engine are out of step");
        T copy = args;
        byte* basePtr = (byte*)&copy;
        int count = layout.Offsets.Length;
        void** slots = stackalloc void*[Math.Max(1, count)];
        for (int i = 0; i < count; i++) slots[i] = basePtr + layout.Offsets[i];
        KernelLaunches++;
        _drv.Check(_drv.cuLaunchKernel(f, grid.X, grid.Y, grid.Z, grid.Block, 1, 1, grid.SharedBytes, _stream.Raw, slots, null), $"cuLaunchKernel({kernel})");
        if (s_syncEachLaunch) _drv.Check(_drv.cuStreamSynchronize(_stream.Raw), $"{kernel} (LD_CUDA_SYNC)");
    }

    /// <summary>Blocks for a grid-stride loop over n elements: enough to fill the GPU, no more.</summary>
    internal uint Blocks(long n, int block = 256) =>
        (uint)Math.Clamp((n + block - 1) / block, 1, (long)_device.MultiprocessorCount * 16);

    /// <summary>The grid of a grid-stride kernel over n elements (256-thread blocks).</summary>
    internal Grid Stride(long n) => new(Blocks(n), 256);

    /// <summary>Converts n elements between storage dtypes (device to device).</summary>
    internal void Cast(ulong src, DType from, ulong dst, DType to, long n)
    {
        if (n == 0) return;
        Launch(new LdCast(n, src, dst), from, to, Stride(n));
    }
}
