using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends;

/// <summary>
/// One network forward run many times with the same shapes and only new input values (the UNet's eps call at every
/// sampling step), which a backend may record once and replay (a CUDA graph: one launch instead of ~1,800). The
/// caller names what makes two runs the same graph (<c>key</c>: the network, its constant device inputs, the shapes)
/// and declares, in order, the host data the forward uploads (<see cref="IBackend.FromHost"/> calls inside it): on a
/// replay only those values change. A forward that uploads anything else, reads back to the host, or differs between
/// runs of one key is not replayable; the backend finds that out at its first two runs and then runs it eagerly.
/// </summary>
public interface IForwardGraph : IDisposable
{
    /// <summary>
    /// The forward's output on the host: run eagerly, or recorded and replayed. <paramref name="forward"/> runs inside
    /// its own tensor scope; its result is read back and released (or kept for replays by the backend).
    /// </summary>
    /// <param name="key">Equal keys (<see cref="object.Equals(object)"/>) promise the same forward with the same device
    /// inputs and shapes; a new key drops the recorded graph and records again.</param>
    /// <param name="uploads">The host data the forward passes to FromHost, in call order.</param>
    float[] Run(object key, IReadOnlyList<float[]> uploads, Func<Tensor> forward);

    /// <summary>Graphs recorded, replays launched, and nodes in the last recorded graph.</summary>
    int Captures { get; }
    long Replays { get; }
    long Nodes { get; }
    /// <summary>Why the last key runs eagerly (a capture that failed), or null.</summary>
    string? EagerReason { get; }
}
