using System.Runtime.InteropServices;
using System.Text.Json;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// Writes a layout's random fp16 weights as a safetensors file, like <see cref="SyntheticWeights.Write"/> and with
/// the same values (<see cref="SyntheticWeights.Values"/> depends only on seed and name), but streamed and in
/// parallel: the real SDXL checkpoint is 2.6 G parameters, which one thread takes minutes to draw and which
/// SafeTensorsWriter would hold in memory twice. Tensors are drawn a window at a time on every core and written in
/// layout order, so memory stays at one window.
/// </summary>
public static class SyntheticFileWriter
{
    private const long WindowBytes = 512L << 20;

    public static void Write(TensorLayout layout, string path, ulong seed)
    {
        var tensors = layout.Tensors;
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteHeader(fs, tensors);
        int start = 0;
        while (start < tensors.Count)
        {
            int end = start;
            long bytes = 0;
            do { bytes += ByteSize(tensors[end]); end++; } while (end < tensors.Count && bytes < WindowBytes);
            var chunks = new byte[end - start][];
            int first = start;
            Parallel.For(first, end, i => chunks[i - first] = Encode(tensors[i], seed));
            foreach (var c in chunks) fs.Write(c);
            start = end;
        }
    }

    private static long ByteSize(TensorSpec t) => Shape.Count(t.Shape) * (t.Kind == ParamKind.Index ? 8 : 2);

    private static byte[] Encode(TensorSpec t, ulong seed)
    {
        if (t.Kind == ParamKind.Index)
        {
            int n = t.Shape[^1];
            var ids = new long[Shape.Size(t.Shape)];
            for (int i = 0; i < ids.Length; i++) ids[i] = i % n;
            return MemoryMarshal.AsBytes(ids.AsSpan()).ToArray();
        }
        var v = SyntheticWeights.Values(t, seed);
        var h = new Half[v.Length];
        for (int i = 0; i < v.Length; i++) h[i] = (Half)v[i];
        return MemoryMarshal.AsBytes(h.AsSpan()).ToArray();
    }

    private static void WriteHeader(Stream stream, List<TensorSpec> tensors)
    {
        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            w.WriteString("ld_synthetic", "random weights made by LayerDiffusion.Native (ld bench); not a trained model");
            w.WriteEndObject();
            long offset = 0;
            foreach (var t in tensors)
            {
                long size = ByteSize(t);
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.Kind == ParamKind.Index ? "I64" : "F16");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + size);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += size;
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - json.Length % 8) % 8);
        for (int i = 0; i < pad; i++) json.WriteByte((byte)' ');
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        json.Position = 0;
        json.CopyTo(stream);
    }
}
