using System.Text;
using System.Text.Json;
using LayerDiffusion.Native.IO;

namespace LayerDiffusion.Native.Tests.Fuzz;

/// <summary>
/// Hostile safetensors files built from real ones: the real key names with other shapes (wrong ranks, zero or odd
/// dimensions), and byte-level mutations of real headers. Tensor data is small and filled with a fixed pattern.
/// </summary>
internal static class SafetensorsFiles
{
    /// <summary>Every key of <paramref name="source"/> with a random shape of rank 0-5 and dims 0-3 (or its own shape, kept small).</summary>
    public static byte[] WithRandomShapes(string source, System.Random rng, double changeFraction)
    {
        using var f = SafeTensorsFile.Open(source);
        var entries = new List<(string Name, string DType, int[] Shape)>();
        foreach (var name in f.Names)
        {
            var info = f.Info(name);
            int[] shape = rng.NextDouble() < changeFraction
                ? Enumerable.Range(0, rng.Next(6)).Select(_ => rng.Next(4)).ToArray()
                : info.Shape.Select(d => Math.Min(d, 1 + rng.Next(3))).ToArray();
            entries.Add((name, rng.Next(3) switch { 0 => "F32", 1 => "F16", _ => "BF16" }, shape));
        }
        return Build(entries, f.Metadata);
    }

    /// <summary>A file with these tensors back to back, data a non-zero pattern.</summary>
    public static byte[] Build(IEnumerable<(string Name, string DType, int[] Shape)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var json = new MemoryStream();
        long offset = 0;
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            foreach (var (name, dtype, shape) in tensors)
            {
                long bytes = shape.Aggregate(1L, (a, d) => a * d) * (dtype == "F32" ? 4 : 2);
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (int d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        var all = new byte[8 + json.Length + offset];
        BitConverter.GetBytes((ulong)json.Length).CopyTo(all, 0);
        json.ToArray().CopyTo(all, 8);
        // 0x3C: small finite values in every dtype (0x3C3C as fp16 is ~1.06, as bf16 ~0.011).
        all.AsSpan(8 + (int)json.Length).Fill(0x3C);
        return all;
    }

    /// <summary>The header of <paramref name="source"/> with a few bytes replaced, inserted or removed, or the length field changed.</summary>
    public static byte[] MutatedHeader(string source, System.Random rng)
    {
        var bytes = File.ReadAllBytes(source);
        int headerLen = (int)BitConverter.ToUInt64(bytes);
        var header = bytes.AsSpan(8, headerLen).ToArray().ToList();
        var data = bytes.AsSpan(8 + headerLen).ToArray();
        switch (rng.Next(6))
        {
            case 0: // replace bytes with anything, non-UTF-8 included
                for (int i = 0, n = 1 + rng.Next(4); i < n; i++) header[rng.Next(header.Count)] = (byte)rng.Next(256);
                break;
            case 1: // replace a digit: shapes and offsets that no longer agree
                var digits = Enumerable.Range(0, header.Count).Where(i => header[i] is >= (byte)'0' and <= (byte)'9').ToList();
                if (digits.Count > 0) header[digits[rng.Next(digits.Count)]] = (byte)('0' + rng.Next(10));
                break;
            case 2: // a huge dimension
                int at = IndexOf(header, "\"shape\":[");
                if (at >= 0) header.InsertRange(at + 9, Encoding.ASCII.GetBytes(rng.Next(2) == 0 ? "4294967296," : "2147483647,2147483647,"));
                break;
            case 3: // remove a run of bytes
                int start = rng.Next(header.Count);
                header.RemoveRange(start, Math.Min(header.Count - start, 1 + rng.Next(16)));
                break;
            case 4: // a repeated tensor entry
                int colon = IndexOf(header, ":{\"dtype\"");
                if (colon > 0)
                {
                    int keyStart = header.LastIndexOf((byte)'"', colon - 2);
                    int end = header.IndexOf((byte)'}', colon) + 1;
                    header.InsertRange(end, header.GetRange(keyStart, end - keyStart).Prepend((byte)','));
                }
                break;
            default: // a length field that disagrees with the header
                var result = bytes.ToArray();
                BitConverter.GetBytes((ulong)(headerLen + rng.Next(-64, 65))).CopyTo(result, 0);
                return result;
        }
        var outBytes = new byte[8 + header.Count + data.Length];
        BitConverter.GetBytes((ulong)header.Count).CopyTo(outBytes, 0);
        header.ToArray().CopyTo(outBytes, 8);
        data.CopyTo(outBytes, 8 + header.Count);
        return outBytes;
    }

    private static int IndexOf(List<byte> haystack, string needle)
    {
        var n = Encoding.ASCII.GetBytes(needle);
        for (int i = 0; i + n.Length <= haystack.Count; i++)
        {
            int j = 0;
            while (j < n.Length && haystack[i + j] == n[j]) j++;
            if (j == n.Length) return i;
        }
        return -1;
    }
}
