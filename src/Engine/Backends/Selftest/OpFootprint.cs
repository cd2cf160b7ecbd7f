using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Selftest;

/// <summary>
/// What one op cost a CUDA backend, measured around a single call: kernel launches, GEMM calls, and the most device
/// memory it held beyond its output (scratch and intermediates). Deterministic per shape, so selftest cases can
/// require exact counts and a scratch bound (<see cref="SelftestCase.Launches"/>, <see cref="SelftestCase.MaxScratchBytes"/>).
/// </summary>
internal readonly record struct OpFootprint(long Kernels, long Gemms, long ScratchBytes)
{
    public static (Tensor Result, OpFootprint Footprint) Measure(CudaBackend b, Func<Tensor> op)
    {
        long k0 = b.KernelLaunches, g0 = b.GemmCalls;
        b.Pool.ResetPeak();
        long inUse = b.Pool.InUseBytes;
        var y = op();
        long output = y is CudaTensor ct ? DevicePool.RoundSize(ct.Bytes) : 0;
        return (y, new OpFootprint(b.KernelLaunches - k0, b.GemmCalls - g0, b.Pool.PeakBytes - inUse - output));
    }

    /// <summary>The case's expectations this footprint breaks, as one message; null when it meets them.</summary>
    public string? Violations(SelftestCase c)
    {
        var problems = new List<string>();
        if (c.Launches is { } l && (l.Kernels != Kernels || l.Gemms != Gemms))
            problems.Add($"{Kernels} kernel launches and {Gemms} GEMMs, expected {l.Kernels} and {l.Gemms}");
        if (c.MaxScratchBytes is { } max && ScratchBytes > max)
            problems.Add($"held {ScratchBytes} bytes beyond its output, at most {max} expected");
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }
}
