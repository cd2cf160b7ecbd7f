using TensorShape = LayerDiffusion.Native.Tensors.Shape;

namespace LayerDiffusion.Native.IO;

/// <summary>
/// A stored tensor's shape as configuration inference reads it: asking for an axis the tensor does not have is a
/// <see cref="ModelFormatException"/> naming the file and the tensor (a file with the right key names and the wrong
/// ranks is corrupt input, not a bug), never an IndexOutOfRangeException.
/// </summary>
public readonly struct TensorDims(string file, string tensor, int[] shape)
{
    public int Rank => shape.Length;

    public int this[int axis] => axis >= 0 && axis < shape.Length
        ? shape[axis]
        : throw new ModelFormatException(file, tensor, $"has shape {TensorShape.Format(shape)}, expected at least {axis + 1} dimensions");

    /// <summary>The shape, which must have exactly <paramref name="rank"/> dimensions.</summary>
    public TensorDims OfRank(int rank) => shape.Length == rank
        ? this
        : throw new ModelFormatException(file, tensor, $"has shape {TensorShape.Format(shape)}, expected {rank} dimensions");

    public override string ToString() => TensorShape.Format(shape);
}
