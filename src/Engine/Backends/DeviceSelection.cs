using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Backends;

/// <summary>Turns `--device auto|cpu|cuda` into a backend, saying which one was picked.</summary>
public static class DeviceSelection
{
    /// <summary>
    /// Makes the GPU backend: returns a backend, or null with the reason it is unusable (no libcuda, no device, no
    /// cuBLASLt). The CUDA backend lives in this assembly, so it is the default; tests may replace it.
    /// </summary>
    public static Func<Precision, (IBackend? Backend, string? Why)>? CudaFactory { get; set; } = CudaBackend.TryCreate;

    /// <summary>
    /// As <see cref="Create(string, Precision, TextWriter)"/>, with a null precision left to the device: fp16 on a GPU
    /// (the fast path; the VAE-family networks still run in fp32 beside it), fp32 on the CPU (its only precision).
    /// </summary>
    public static IBackend Create(string device, Precision? precision, TextWriter log) =>
        Create(device, precision ?? DefaultPrecision(device), log);

    /// <summary>The precision a device runs at when none is asked for: fp32 on the CPU, fp16 otherwise.</summary>
    public static Precision DefaultPrecision(string device) => device == "cpu" ? Precision.Fp32 : Precision.Fp16;

    public static IBackend Create(string device, Precision precision, TextWriter log)
    {
        switch (device)
        {
            case "cpu":
                if (precision != Precision.Fp32) throw new InvalidSettingException("Precision", "the CPU backend computes in fp32 only");
                return CpuBackend.Instance;
            case "cuda":
            {
                var (b, why) = TryCuda(precision);
                if (b is null) throw new InvalidSettingException("Device", $"cuda: no usable GPU ({why})");
                log.WriteLine($"device: {b.Name}");
                return b;
            }
            case "auto":
            {
                var (b, why) = TryCuda(precision);
                if (b is not null) { log.WriteLine($"device: {b.Name}"); return b; }
                log.WriteLine($"device: cpu (no usable GPU: {why})");
                return CpuBackend.Instance;
            }
            default:
                throw new InvalidSettingException("Device", $"'{device}' is not one of auto, cpu, cuda");
        }
    }

    private static (IBackend?, string?) TryCuda(Precision precision) =>
        CudaFactory is null ? (null, "this build has no CUDA backend") : CudaFactory(precision);
}
