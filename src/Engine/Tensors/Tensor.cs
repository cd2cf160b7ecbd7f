namespace LayerDiffusion.Native.Tensors;

/// <summary>
/// A dense row-major tensor owned by one backend. Graph code only passes tensors between backend calls;
/// what the storage is (a managed fp32 array, device memory in fp16) is the backend's business. A new tensor
/// belongs to the innermost open <see cref="TensorScope"/>, which disposes it unless it is moved out or detached.
/// </summary>
public abstract class Tensor : IDisposable
{
    protected Tensor(IBackend backend, int[] shape)
    {
        Backend = backend;
        Shape = shape;
        TensorScope.Adopt(this);
    }

    /// <summary>The scope that will dispose this tensor; null when its creator does.</summary>
    internal TensorScope? Owner { get; set; }

    public IBackend Backend { get; }
    public int[] Shape { get; }
    public int Rank => Shape.Length;
    public int Count => Tensors.Shape.Size(Shape);

    /// <summary>Size of an axis; negative axes count from the end.</summary>
    public int Dim(int axis) => Shape[axis < 0 ? axis + Shape.Length : axis];

    public override string ToString() => $"{GetType().Name}{Tensors.Shape.Format(Shape)}";

    /// <summary>Frees the storage; idempotent (a scope may dispose a tensor its code already disposed).</summary>
    public abstract void Dispose();
}
