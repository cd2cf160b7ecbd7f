using LayerDiffusion.Native.Backends;

namespace LayerDiffusion.Native.Pipelines.Memory;

/// <summary>
/// Refuses a generation whose working set cannot fit before anything is allocated: the estimate's lower bound against
/// free GPU memory (for the tensors of a GPU run) and against available RAM (host buffers, and the tensors of a CPU
/// run). The error names what was asked, what it needs, where the need comes from, and what is free.
/// </summary>
public static class MemoryCheck
{
    public static void Require(WorkingSetEstimate need, GenerationSettings s, long? hostAvailable, (long Free, string Device)? device) =>
        Require(need, "Width/Height", $"{s.Width}x{s.Height}{(s.Batch > 1 ? $" with {InvalidSettingException.Ref("Batch")} {s.Batch}" : "")}", "choose a smaller size or batch",
            hostAvailable, device);

    public static void Require(WorkingSetEstimate need, GenerationSettings s, IBackend backend) =>
        Require(need, s, AvailableMemory.HostBytes(), AvailableMemory.DeviceBytes(backend));

    /// <param name="option">The setting the error names (<see cref="InvalidSettingException.Setting"/>).</param>
    /// <param name="asked">What was asked, other settings referred to with <see cref="InvalidSettingException.Ref"/>.</param>
    /// <param name="advice">What to change.</param>
    public static void Require(WorkingSetEstimate need, string option, string asked, string advice, long? hostAvailable, (long Free, string Device)? device)
    {
        if (need.Where == "gpu" && device is { } d && need.TensorBytes > d.Free)
            throw Refuse(option, asked, advice, need.TensorBytes, $"GPU memory on {d.Device}", need.Peak, d.Free, "free");
        if (hostAvailable is { } host && need.HostBytes > host)
            throw Refuse(option, asked, advice, need.HostBytes, "RAM", need.Where == "cpu" ? need.Peak : null, host, "available");
    }

    private static InvalidSettingException Refuse(string option, string asked, string advice, long bytes, string where, PhaseNeed? peak, long free, string freeWord)
    {
        string detail = peak is null ? "for its images" : $"in its {peak.Phase} phase: weights {GiB(peak.WeightBytes)}, activations {GiB(peak.ActivationBytes)}";
        return new InvalidSettingException(option, $"{asked} needs at least {GiB(bytes)} of {where} ({detail}), but {GiB(free)} is {freeWord}; {advice} (nothing was run)") { Kind = ErrorKind.OutOfMemory };
    }

    private static string GiB(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB" : $"{bytes / (double)(1L << 20):F0} MiB";
}
