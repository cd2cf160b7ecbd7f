using LayerDiffusion.Native.Backends;

namespace LayerDiffusion.Native.Pipelines.Memory;

/// <summary>How much memory a run can still take: RAM for this process, and free memory on the backend's GPU.</summary>
public static class AvailableMemory
{
    /// <summary>
    /// RAM this process can still use, or null where it cannot be told: the smaller of what the kernel reports as
    /// available without swapping (/proc/meminfo MemAvailable) and what the .NET runtime may still take under its
    /// limit (a container's cgroup limit, or a configured heap limit), less the managed heap already in use.
    /// </summary>
    public static long? HostBytes()
    {
        long? meminfo = MemAvailable();
        var gc = GC.GetGCMemoryInfo();
        long? runtime = gc.TotalAvailableMemoryBytes > 0 ? Math.Max(0, gc.TotalAvailableMemoryBytes - GC.GetTotalMemory(false)) : null;
        return meminfo is null ? runtime : runtime is null ? meminfo : Math.Min(meminfo.Value, runtime.Value);
    }

    /// <summary>Free device memory as the driver reports it, and the device's name; null on the CPU.</summary>
    public static (long Free, string Device)? DeviceBytes(IBackend backend)
    {
        if (backend is not IBackendDiagnostics d) return null;
        var (free, total) = d.MemoryInfo();
        return total > 0 ? (free, d.DeviceName) : null;
    }

    private static long? MemAvailable()
    {
        try
        {
            if (!File.Exists("/proc/meminfo")) return null;
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length >= 2 && long.TryParse(parts[1], out long kb) ? kb * 1024 : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }
}
