using System.Numerics;
using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.IO;

/// <summary>
/// NaN and Inf detection for stored tensors and intermediate results: a value is non-finite exactly when its exponent
/// bits are all ones, tested a vector at a time.
/// </summary>
public static class FiniteValues
{
    private const uint ExponentMask = 0x7F800000u;

    /// <summary>Index of the first NaN or Inf, or -1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        int i = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<uint>.Count)
        {
            var mask = new Vector<uint>(ExponentMask);
            var vectors = MemoryMarshal.Cast<uint, Vector<uint>>(bits);
            int k = 0;
            while (k < vectors.Length && !Vector.EqualsAny(vectors[k] & mask, mask)) k++;
            i = k * Vector<uint>.Count; // the scalar loop finds the element (or finishes the tail)
        }
        for (; i < bits.Length; i++)
            if ((bits[i] & ExponentMask) == ExponentMask) return i;
        return -1;
    }

    /// <summary>Throws naming the file, the tensor and the element if <paramref name="values"/> holds a NaN or Inf.</summary>
    public static void Require(string file, string tensor, ReadOnlySpan<float> values)
    {
        int bad = FirstNonFinite(values);
        if (bad >= 0) throw new ModelFormatException(file, tensor, $"holds a non-finite value ({values[bad]}) at element {bad}");
    }

    /// <summary>A stored tensor widened to fp32, refused if it holds a NaN or Inf (as weights are on load).</summary>
    public static float[] ReadFinite(this SafeTensorsFile file, string name, bool longLived = false)
    {
        var data = file.ReadFloat32(name, longLived: longLived);
        Require(file.Path, name, data);
        return data;
    }
}
