using System.Runtime.InteropServices;
using System.Text.Json;

namespace LayerDiffusion.Native.IO;

/// <summary>Writes safetensors files: header JSON padded to 8 bytes, then the tensors in the order added.</summary>
public sealed class SafeTensorsWriter
{
    private readonly List<(string Name, DType DType, int[] Shape, byte[] Data)> _tensors = new();
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    public SafeTensorsWriter AddMetadata(string key, string value) { _metadata[key] = value; return this; }

    public SafeTensorsWriter Add(string name, DType dtype, int[] shape, ReadOnlySpan<byte> data)
    {
        long expected = Shape.Count(shape) * DTypes.Size(dtype);
        if (data.Length != expected) throw new ArgumentException($"tensor '{name}': {data.Length} bytes for {DTypes.Name(dtype)} {Shape.Format(shape)} (expected {expected})");
        if (_tensors.Any(t => t.Name == name)) throw new ArgumentException($"tensor '{name}' added twice");
        _tensors.Add((name, dtype, (int[])shape.Clone(), data.ToArray()));
        return this;
    }

    public SafeTensorsWriter Add(string name, int[] shape, ReadOnlySpan<float> data) =>
        Add(name, DType.F32, shape, MemoryMarshal.AsBytes(data));

    public SafeTensorsWriter Add(string name, int[] shape, ReadOnlySpan<long> data) =>
        Add(name, DType.I64, shape, MemoryMarshal.AsBytes(data));

    public void Write(string path)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        Write(fs);
    }

    public void Write(Stream stream)
    {
        WriteHeader(stream, _tensors.Select(t => (t.Name, t.DType, t.Shape, (long)t.Data.Length)), _metadata);
        foreach (var t in _tensors) stream.Write(t.Data);
    }

    /// <summary>
    /// The 8-byte length and the JSON header (padded to 8 bytes) for tensors that follow back to back in the given
    /// order; for writers that stream the tensor bytes themselves.
    /// </summary>
    public static void WriteHeader(Stream stream, IEnumerable<(string Name, DType DType, int[] Shape, long Bytes)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", DTypes.Name(t.DType));
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Bytes;
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - json.Length % 8) % 8);
        for (int i = 0; i < pad; i++) json.WriteByte((byte)' ');
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        json.Position = 0;
        json.CopyTo(stream);
    }

    /// <summary>Copies every tensor and the metadata of an open file.</summary>
    public static SafeTensorsWriter CopyOf(SafeTensorsFile file)
    {
        var w = new SafeTensorsWriter();
        foreach (var (k, v) in file.Metadata) w.AddMetadata(k, v);
        foreach (var name in file.Names)
        {
            var info = file.Info(name);
            w.Add(name, info.DType, info.Shape, file.Bytes(info));
        }
        return w;
    }
}
