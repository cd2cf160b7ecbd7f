using System.Runtime.InteropServices;
using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>
/// A forward as one CUDA graph (see <see cref="IForwardGraph"/>). Per key:
/// 1. warm-up: the forward runs eagerly with its activations in a fresh <see cref="PoolArena"/>; everything done once
///    per shape happens here (kernel modules loaded, cuBLASLt heuristics and LD_GEMM_TUNE timing, cuDNN plan search,
///    workspaces rented), and its uploads are checked against the declared ones;
/// 2. capture: the same forward runs on the capturing stream with the arena sealed (the pool hands out blocks the
///    warm-up rented: no allocation, which CUDA forbids while capturing), uploads staged in pinned buffers; the graph
///    is instantiated and launched;
/// 3. every later run writes the new upload values into the pinned buffers and launches the graph once.
/// The arena's memory belongs to the graph until the key changes or this is disposed, so nothing allocated between
/// launches can land in it. A capture that fails (a synchronisation, a host read-back, an upload not declared) drops
/// the graph and runs that key eagerly from then on, saying why once on stderr.
/// </summary>
internal sealed class CudaForwardGraph(CudaBackend backend) : IForwardGraph
{
    private object? _key;
    private bool _eager;
    private PoolArena? _arena;
    private PinnedHostMemory[] _slots = [];
    private CudaGraphExec? _exec;
    private Tensor? _output;

    public int Captures { get; private set; }
    public long Replays { get; private set; }
    public long Nodes { get; private set; }
    public string? EagerReason { get; private set; }

    public float[] Run(object key, IReadOnlyList<float[]> uploads, Func<Tensor> forward)
    {
        if (!Equals(key, _key))
        {
            Drop();
            (_key, _eager, EagerReason) = (key, false, null);
        }
        if (_eager) return Eager(forward);
        if (_exec is not null) return Replay(uploads);
        return _arena is null ? WarmUp(uploads, forward) : Capture(uploads, forward);
    }

    private float[] Eager(Func<Tensor> forward)
    {
        using var scope = TensorScope.Open();
        return backend.ToHost(forward());
    }

    private float[] WarmUp(IReadOnlyList<float[]> uploads, Func<Tensor> forward)
    {
        _arena = new PoolArena();
        var recorded = new List<float[]>();
        Tensor output;
        backend.Pool.EnterArena(_arena);
        backend.Uploads = GraphUploads.Recording(recorded);
        try
        {
            using var scope = TensorScope.Open();
            output = TensorScope.Detach(forward());
        }
        finally
        {
            backend.Uploads = null;
            backend.Pool.LeaveArena();
        }
        try { return backend.ToHost(output); }
        finally
        {
            output.Dispose();
            if (UploadMismatch(uploads, recorded) is { } why) GiveUp(why);
        }
    }

    private static string? UploadMismatch(IReadOnlyList<float[]> declared, List<float[]> made)
    {
        if (declared.Count != made.Count) return $"the forward made {made.Count} host uploads, {declared.Count} were declared";
        for (int i = 0; i < made.Count; i++)
            if (!MemoryMarshal.AsBytes(declared[i].AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(made[i].AsSpan())))
                return $"the forward's host upload {i} ({made[i].Length} values) is not the declared one";
        return null;
    }

    private float[] Capture(IReadOnlyList<float[]> uploads, Func<Tensor> forward)
    {
        var device = backend.Device;
        _slots = uploads.Select(u => new PinnedHostMemory(device, Math.Max(1L, (long)u.Length * sizeof(float)))).ToArray();
        backend.Synchronize();
        var staging = GraphUploads.Staging(_slots);
        Tensor? output = null;
        CudaGraph? graph = null;
        string? failure = null;
        _arena!.Sealed = true;
        backend.Pool.EnterArena(_arena);
        backend.Uploads = staging;
        try
        {
            using (var capture = new StreamCapture(backend.Stream))
            {
                using (var scope = TensorScope.Open()) output = TensorScope.Detach(forward());
                graph = capture.End();
            }
            if (staging.Count != _slots.Length) throw new LdException($"the captured forward made {staging.Count} host uploads, its warm-up {_slots.Length}");
            _exec = graph.Instantiate();
            Nodes = graph.NodeCount;
        }
        catch (LdException e)
        {
            failure = e.Message;
        }
        finally
        {
            backend.Uploads = null;
            backend.Pool.LeaveArena();
            _arena.Sealed = false;
            graph?.Dispose();
        }
        if (failure is not null)
        {
            output?.Dispose();
            GiveUp("capture failed: " + failure);
            return Eager(forward);
        }
        _output = output;
        Captures++;
        return Replay(uploads);
    }

    private unsafe float[] Replay(IReadOnlyList<float[]> uploads)
    {
        if (uploads.Count != _slots.Length)
            throw new ArgumentException($"{uploads.Count} uploads for a graph captured with {_slots.Length}");
        for (int i = 0; i < uploads.Count; i++)
        {
            if ((long)uploads[i].Length * sizeof(float) != _slots[i].Bytes)
                throw new ArgumentException($"upload {i} has {uploads[i].Length} values; the graph was captured with {_slots[i].Bytes / sizeof(float)} (a new shape needs a new key)");
            uploads[i].AsSpan().CopyTo(new Span<float>(_slots[i].Pointer, uploads[i].Length));
        }
        _exec!.Launch(backend.Stream);
        Replays++;
        return backend.ToHost(_output!); // synchronises: the pinned buffers are free to rewrite afterwards
    }

    private void GiveUp(string why)
    {
        Drop();
        _eager = true;
        EagerReason = why;
        Console.Error.WriteLine($"note: CUDA graphs off for this forward, it runs eagerly ({why})");
    }

    /// <summary>Frees the graph, its output, its arena and its staging buffers (after the stream has finished with them).</summary>
    private void Drop()
    {
        if (_exec is null && _arena is null && _output is null) return;
        backend.Synchronize();
        _exec?.Dispose();
        _exec = null;
        _output?.Dispose();
        _output = null;
        if (_arena is not null) backend.Pool.DisposeArena(_arena);
        _arena = null;
        foreach (var s in _slots) s.Dispose();
        _slots = [];
    }

    public void Dispose() => Drop();
}
