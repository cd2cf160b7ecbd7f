using LayerDiffusion.Native.Interop;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>
    /// CUDA graphs for the forwards run at every sampling step (see <see cref="CudaForwardGraph"/>); LD_CUDA_GRAPHS=0
    /// runs them eagerly, and so does LD_CUDA_SYNC=1 (a synchronisation after each launch cannot be captured).
    /// </summary>
    public bool UseGraphs { get; set; } = Environment.GetEnvironmentVariable("LD_CUDA_GRAPHS") is not "0" && !s_syncEachLaunch;

    public IForwardGraph? CreateForwardGraph() => UseGraphs ? new CudaForwardGraph(this) : null;

    /// <summary>Where FromHost takes its data from while a forward is warmed up or captured (null otherwise).</summary>
    internal GraphUploads? Uploads { get; set; }

    private void* UploadSource(ReadOnlySpan<float> data, float* original) => Uploads is { } u ? u.Source(data, original) : original;

    private string GraphSummary() => UseGraphs ? "CUDA graphs per UNet step" : "no CUDA graphs (LD_CUDA_GRAPHS=0 or LD_CUDA_SYNC=1)";
}

/// <summary>
/// The host data of FromHost calls inside a graph's forward. Warm-up: a copy of each upload is kept, to check that
/// the caller declared exactly these. Capture: each upload is staged in its own pinned buffer and the copy reads from
/// there, so a replay only rewrites those buffers (a graph's copy node reads the same host address at every launch).
/// </summary>
internal sealed unsafe class GraphUploads
{
    private readonly List<float[]>? _recorded;
    private readonly PinnedHostMemory[]? _slots;
    private int _next;

    private GraphUploads(List<float[]>? recorded, PinnedHostMemory[]? slots) => (_recorded, _slots) = (recorded, slots);

    public static GraphUploads Recording(List<float[]> into) => new(into, null);
    public static GraphUploads Staging(PinnedHostMemory[] slots) => new(null, slots);

    /// <summary>Uploads staged so far.</summary>
    public int Count => _next;

    /// <summary>The host address the upload of <paramref name="data"/> copies from.</summary>
    public void* Source(ReadOnlySpan<float> data, float* original)
    {
        int i = _next++;
        if (_recorded is not null)
        {
            _recorded.Add(data.ToArray());
            return original;
        }
        if (i >= _slots!.Length || _slots[i].Bytes != (long)data.Length * sizeof(float))
            throw new LdException($"the captured forward's upload {i} ({data.Length} values) is not one its warm-up made");
        var dst = new Span<float>(_slots[i].Pointer, data.Length);
        data.CopyTo(dst);
        return _slots[i].Pointer;
    }
}
