namespace LayerDiffusion.Native.Tensors;

/// <summary>Helpers for shapes held as plain int arrays (row-major, last axis fastest).</summary>
public static class Shape
{
    public static long Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }

    public static int Size(ReadOnlySpan<int> shape) => checked((int)Count(shape));

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);
}
