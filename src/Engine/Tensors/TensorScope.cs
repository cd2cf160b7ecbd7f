namespace LayerDiffusion.Native.Tensors;

/// <summary>
/// Who frees a tensor (TorchSharp's DisposeScope is the model). Every tensor an op creates belongs to the innermost
/// scope open on its thread; disposing the scope disposes every tensor it still owns. A block returns what it returns
/// with <see cref="MoveToOuter{T}"/> and the scope frees the rest, so model code needs no per-op disposal and device
/// memory comes back at a fixed point in the program, never when the garbage collector happens to run.
/// Tensors created with no scope open, and tensors passed to <see cref="Detach{T}"/> (weights, uploaded conditioning,
/// caches), belong to their creator, who disposes them. Disposing a tensor early is always allowed (a loop that
/// replaces its state frees the old one); disposing it again at scope end does nothing.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;

    private readonly TensorScope? _outer;
    private readonly List<Tensor> _owned = new();
    private bool _disposed;

    private TensorScope(TensorScope? outer) => _outer = outer;

    /// <summary>Opens a scope inside the current one (if any); dispose it on the same thread, innermost first.</summary>
    public static TensorScope Open() => t_current = new TensorScope(t_current);

    /// <summary>The innermost open scope of this thread, or null.</summary>
    public static TensorScope? Current => t_current;

    /// <summary>Called by every tensor's constructor: the innermost scope takes it.</summary>
    internal static void Adopt(Tensor t)
    {
        if (t_current is { } s) s.Take(t);
    }

    private void Take(Tensor t)
    {
        t.Owner = this;
        _owned.Add(t);
    }

    /// <summary>
    /// Hands <paramref name="t"/> to the enclosing scope (or to the caller, where none is open) if this scope owns it;
    /// tensors this scope does not own (inputs, weights) are returned untouched.
    /// </summary>
    public T MoveToOuter<T>(T t) where T : Tensor
    {
        if (!ReferenceEquals(t.Owner, this)) return t;
        if (_outer is null) t.Owner = null;
        else _outer.Take(t);
        return t;
    }

    /// <summary>Both results of a block that returns two tensors.</summary>
    public (T, U) MoveToOuter<T, U>((T A, U B) pair) where T : Tensor where U : Tensor => (MoveToOuter(pair.A), MoveToOuter(pair.B));

    /// <summary>Takes <paramref name="t"/> out of whichever scope owns it: its creator disposes it.</summary>
    public static T Detach<T>(T t) where T : Tensor
    {
        t.Owner = null;
        return t;
    }

    /// <summary>
    /// Applies <paramref name="steps"/> in order, disposing each intermediate result as soon as the next step has
    /// produced its own (never <paramref name="x"/>): a chain that holds at most two of its tensors at once, where a
    /// scope alone would keep every link until it closes.
    /// </summary>
    public static Tensor Chain(Tensor x, params Func<Tensor, Tensor>[] steps)
    {
        var h = x;
        foreach (var step in steps)
        {
            var next = step(h);
            if (!ReferenceEquals(h, x) && !ReferenceEquals(h, next)) h.Dispose();
            h = next;
        }
        return h;
    }

    /// <summary>Disposes every tensor still owned, in creation order. Scopes close innermost first.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (!ReferenceEquals(t_current, this))
            throw new InvalidOperationException("tensor scopes must be disposed innermost first, on the thread that opened them");
        _disposed = true;
        t_current = _outer;
        foreach (var t in _owned)
        {
            if (!ReferenceEquals(t.Owner, this)) continue;
            t.Owner = null;
            t.Dispose();
        }
        _owned.Clear();
    }
}
