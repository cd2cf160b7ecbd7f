using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>
/// Deterministic random weights for a layout, written as a real safetensors file so every loader path is the
/// production one. Each tensor's values depend only on (seed, tensor name), never on order. Magnitudes follow
/// the usual initialisations (weights ~ N(0, 1/fan_in), norms near 1, small biases) so activations stay finite.
/// </summary>
public static class SyntheticWeights
{
    /// <summary>Tensors are drawn a window at a time on every core and streamed in layout order: the real SDXL
    /// checkpoint is 2.6 G parameters, too slow for one thread and too large to hold twice.</summary>
    private const long WindowBytes = 512L << 20;

    public static void Write(TensorLayout layout, string path, ulong seed)
    {
        var tensors = layout.Tensors;
        long Bytes(TensorSpec t) => Shape.Count(t.Shape) * DTypes.Size(t.DType);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        SafeTensorsWriter.WriteHeader(fs, tensors.Select(t => (t.Name, t.DType, t.Shape, Bytes(t))),
            new Dictionary<string, string> { ["ld_synthetic"] = "random weights made by LayerDiffusion.Native; not a trained model" });
        for (int start = 0; start < tensors.Count;)
        {
            int end = start;
            long window = 0;
            do { window += Bytes(tensors[end]); end++; } while (end < tensors.Count && window < WindowBytes);
            var chunks = new byte[end - start][];
            Parallel.For(start, end, i => chunks[i - start] = TensorBytes(tensors[i], seed));
            foreach (var c in chunks) fs.Write(c);
            start = end;
        }
    }

    private static byte[] TensorBytes(TensorSpec t, ulong seed)
    {
        if (t.Kind != ParamKind.Index)
        {
            var values = Values(t, seed);
            var bytes = new byte[values.Length * DTypes.Size(t.DType)];
            TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(bytes.AsSpan()));
            return bytes;
        }
        int n = t.Shape[^1];
        var ids = new long[Shape.Size(t.Shape)];
        for (int i = 0; i < ids.Length; i++) ids[i] = i % n;
        return MemoryMarshal.AsBytes(ids.AsSpan()).ToArray();
    }

    public static float[] Values(TensorSpec t, ulong seed)
    {
        var v = new float[Shape.Size(t.Shape)];
        var rng = new SplitMix(seed ^ Fnv(t.Name));
        int fanIn = t.Shape.Length >= 2 ? (int)(Shape.Count(t.Shape) / t.Shape[0]) : 1;
        (float mean, float std) = t.Kind switch
        {
            ParamKind.Weight => (0f, 1f / MathF.Sqrt(fanIn)),
            ParamKind.Bias => (0f, 0.02f),
            ParamKind.NormWeight => (1f, 0.05f),
            ParamKind.NormBias => (0f, 0.02f),
            ParamKind.Embedding => (0f, 0.5f),
            _ => (1f, 0f),
        };
        for (int i = 0; i < v.Length; i++) v[i] = mean + std * rng.NextGaussian();
        return v;
    }

    private static ulong Fnv(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) { h ^= c; h *= 1099511628211UL; }
        return h;
    }

    /// <summary>SplitMix64 with a Box–Muller transform: small, fast and identical on every platform.</summary>
    private struct SplitMix(ulong state)
    {
        private ulong _s = state;
        private float _spare = float.NaN;

        private ulong Next()
        {
            ulong z = _s += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public float NextGaussian()
        {
            if (!float.IsNaN(_spare)) { float s = _spare; _spare = float.NaN; return s; }
            double u1 = ((Next() >> 11) + 1.0) / 9007199254740993.0, u2 = (Next() >> 11) / 9007199254740992.0;
            double r = Math.Sqrt(-2 * Math.Log(u1));
            _spare = (float)(r * Math.Sin(2 * Math.PI * u2));
            return (float)(r * Math.Cos(2 * Math.PI * u2));
        }
    }
}
