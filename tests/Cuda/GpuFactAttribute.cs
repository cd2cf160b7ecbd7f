using LayerDiffusion.Native.Backends.Cuda;
using Xunit;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>Reason to skip GPU tests on this machine, or null when a CUDA GPU is usable.</summary>
internal static class GpuAvailability
{
    private static readonly Lazy<string?> s_skip = new(() => CudaBackend.IsAvailable(out string why) ? null : "no CUDA GPU here: " + why);
    public static string? SkipReason => s_skip.Value;
}

/// <summary>A fact that shows as skipped (with the reason) where there is no CUDA GPU, never as a vacuous pass.</summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public GpuFactAttribute()
    {
        if (GpuAvailability.SkipReason is { } why) Skip = why;
    }
}

/// <summary>A theory that shows as skipped where there is no CUDA GPU.</summary>
public sealed class GpuTheoryAttribute : TheoryAttribute
{
    public GpuTheoryAttribute()
    {
        if (GpuAvailability.SkipReason is { } why) Skip = why;
    }
}
