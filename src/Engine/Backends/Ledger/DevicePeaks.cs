using System.Globalization;
using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Ledger;

/// <summary>
/// A card's peak for the precision a backend's products run in: dense tensor-core TFLOP/s (fp16/bf16, or TF32 for an
/// fp32 backend that uses it; the FP32 units for strict fp32), memory GB/s, and where the figures come from.
/// Either figure is null when unknown.
/// </summary>
public sealed record DevicePeak(double? TflopS, double? GbS, string Source);

/// <summary>
/// Peak figures per card, in one table: NVIDIA's datasheet numbers (dense, i.e. without 2:4 sparsity, at the boost
/// clock) for the cards we run on, and for any other card figures derived from its SM count, clocks and memory bus
/// (the driver's attributes) with per-SM rates by architecture. The ledger divides achieved rates by these.
/// </summary>
public static class DevicePeaks
{
    /// <summary>A datasheet entry: fp16/bf16 tensor, TF32 tensor and FP32 TFLOP/s, memory GB/s.</summary>
    public sealed record Card(string Name, Func<string, bool> Matches, double Fp16Tensor, double Tf32Tensor, double Fp32, double GbS);

    public static IReadOnlyList<Card> Cards { get; } =
    [
        // H100 SXM5 80 GB (the driver calls it "NVIDIA H100 80GB HBM3"): 132 SMs, HBM3.
        new("NVIDIA H100 SXM", n => n.Contains("H100", StringComparison.Ordinal) && (n.Contains("SXM", StringComparison.Ordinal) || n.Contains("HBM3", StringComparison.Ordinal)),
            989.4, 494.7, 66.9, 3350),
        new("NVIDIA H100 PCIe", n => n.Contains("H100", StringComparison.Ordinal) && n.Contains("PCIe", StringComparison.Ordinal), 756.5, 378.0, 51.2, 2000),
        // H200 SXM 141 GB: the H100 SXM's compute with HBM3e (the NVL variant has lower clocks: derived figures).
        new("NVIDIA H200", n => n.Contains("H200", StringComparison.Ordinal) && !n.Contains("NVL", StringComparison.Ordinal), 989.4, 494.7, 66.9, 4800),
        new("NVIDIA A100 SXM4 80GB", n => n.Contains("A100-SXM4-80GB", StringComparison.Ordinal), 312.0, 156.0, 19.5, 2039),
        new("NVIDIA A100 SXM4 40GB", n => n.Contains("A100-SXM4-40GB", StringComparison.Ordinal), 312.0, 156.0, 19.5, 1555),
    ];

    /// <summary>Which of a card's peaks a backend's products run at.</summary>
    public enum Units { Fp16Tensor, Tf32Tensor, Fp32 }

    /// <summary>The peak for the backend's precision, or null for a backend that is not a GPU (the CPU).</summary>
    public static DevicePeak? For(IBackend backend)
    {
        if (RecordingBackend.Unwrap(backend) is not CudaBackend cuda) return null;
        var units = cuda.StorageType != DType.F32 ? Units.Fp16Tensor : cuda.UseTf32 ? Units.Tf32Tensor : Units.Fp32;
        var d = cuda.Device;
        return For(d.Name, d.ComputeMajor, d.ComputeMinor, d.MultiprocessorCount, Attribute(d, ClockRateKhz), Attribute(d, MemoryClockKhz),
            Attribute(d, MemoryBusBits), units);
    }

    /// <summary>The table's entry for the card's name, else figures derived from its attributes (0 = not reported).</summary>
    public static DevicePeak For(string name, int major, int minor, int sms, int clockKhz, int memoryClockKhz, int busBits, Units units)
    {
        string what = units switch { Units.Fp16Tensor => "fp16/bf16 tensor", Units.Tf32Tensor => "TF32 tensor", _ => "FP32" };
        if (Cards.FirstOrDefault(c => c.Matches(name)) is { } card)
        {
            double tflops = units switch { Units.Fp16Tensor => card.Fp16Tensor, Units.Tf32Tensor => card.Tf32Tensor, _ => card.Fp32 };
            return new DevicePeak(tflops, card.GbS, $"datasheet: {card.Name}, dense {what}");
        }
        var inv = CultureInfo.InvariantCulture;
        double? flopsPerClock = FlopsPerSmClock(major, minor, units);
        double? tf = flopsPerClock is { } f && clockKhz > 0 && sms > 0 ? sms * (clockKhz * 1e3) * f / 1e12 : null;
        double? gb = memoryClockKhz > 0 && busBits > 0 ? 2.0 * memoryClockKhz * 1e3 * (busBits / 8.0) / 1e9 : null;
        string flopsText = tf is not null
            ? string.Create(inv, $"{sms} SMs × {clockKhz / 1e6:F2} GHz × {flopsPerClock} FLOP/clock (sm_{major}{minor} dense {what})")
            : $"no FLOP figure (sm_{major}{minor}{(clockKhz > 0 ? "" : ", no clock reported")})";
        string bwText = gb is not null ? string.Create(inv, $"2 × {memoryClockKhz / 1e6:F2} GHz × {busBits}-bit bus") : "no bandwidth figure (no memory clock reported)";
        return new DevicePeak(tf, gb, $"derived: {flopsText}; {bwText}");
    }

    /// <summary>
    /// Dense FLOPs per SM per clock. Tensor cores (fp16/bf16 with fp32 accumulation): sm_80 2048, sm_86/87/89 1024
    /// (data-centre parts; GeForce cards halve it with fp32 accumulation), sm_90 4096, sm_100 8192; TF32 half of that.
    /// FP32 units: 64 FMA lanes per SM on sm_80, 128 since. Null for an architecture not listed.
    /// </summary>
    private static double? FlopsPerSmClock(int major, int minor, Units units)
    {
        double? tensor = (major, minor) switch
        {
            (8, 0) => 2048,
            (8, 6) or (8, 7) or (8, 9) => 1024,
            (9, 0) => 4096,
            (10, _) => 8192,
            _ => null,
        };
        return units switch
        {
            Units.Fp16Tensor => tensor,
            Units.Tf32Tensor => tensor / 2,
            _ => major == 8 && minor == 0 ? 128 : major >= 8 ? 256 : null,
        };
    }

    // CU_DEVICE_ATTRIBUTE_CLOCK_RATE, _MEMORY_CLOCK_RATE (kHz), _GLOBAL_MEMORY_BUS_WIDTH (bits).
    private const int ClockRateKhz = 13, MemoryClockKhz = 36, MemoryBusBits = 37;

    /// <summary>An attribute, or 0 where the driver does not report it (newer drivers drop some clock attributes).</summary>
    private static int Attribute(CudaDevice d, int attribute)
    {
        try { return Math.Max(0, d.DeviceAttribute(attribute)); }
        catch (LdException) { return 0; }
    }
}
