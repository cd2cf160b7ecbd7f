using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;
using TensorShape = LayerDiffusion.Native.Tensors.Shape;

namespace LayerDiffusion.Native.IO;

/// <summary>One tensor's entry in a safetensors header, already validated against the file.</summary>
public sealed record SafeTensorInfo(string Name, DType DType, int[] Shape, long Offset, long Length)
{
    public long ElementCount => TensorShape.Count(Shape);
}

/// <summary>
/// A memory-mapped safetensors file. The header is validated in full before any tensor is touched:
/// header length inside the file and under a cap, valid JSON, known dtypes, byte counts that match the shapes,
/// offsets inside the data section and no two tensors overlapping. Tensor bytes are views into the mapping.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>Real checkpoint headers are a few hundred KB; anything past this is hostile or corrupt.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _tensors;

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors => _tensors;
    /// <summary>Tensor names in file order (by offset), stable for listing.</summary>
    public IReadOnlyList<string> Names { get; }

    private SafeTensorsFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePtr,
        long dataStart, Dictionary<string, SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        _dataStart = dataStart;
        _tensors = tensors;
        Metadata = metadata;
        Names = tensors.Values.OrderBy(t => t.Offset).ThenBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Name).ToArray();
    }

    public static SafeTensorsFile Open(string path)
    {
        if (Directory.Exists(path)) throw new ModelFormatException(path, null, "is a folder, not a safetensors file") { Kind = ErrorKind.FileAccess };
        // The length comes from the opened file, not from the directory entry: a symbolic link (a shared model
        // folder, the Hugging Face cache's snapshots/) has its own, much shorter length.
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // File.Exists is true for a dangling link; say where it points.
            throw new ModelFormatException(path, null, new FileInfo(path).LinkTarget is { } target ? $"is a link to {target}, which does not exist" : "file not found") { Kind = ErrorKind.FileAccess };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, null, $"cannot open ({e.Message})") { Kind = ErrorKind.FileAccess };
        }
        MemoryMappedFile? map = null;
        long fileLength;
        ulong headerLen;
        try
        {
            fileLength = fs.CanSeek ? fs.Length : 0;
            if (fileLength < 8) throw new ModelFormatException(path, null, $"not a safetensors file: {fileLength} bytes is shorter than the 8-byte header length");
            Span<byte> len = stackalloc byte[8];
            fs.ReadExactly(len);
            headerLen = BitConverter.ToUInt64(len);
            if (headerLen > (ulong)MaxHeaderBytes)
                throw new ModelFormatException(path, null, $"header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit (corrupt or not a safetensors file)");
            if (8 + (long)headerLen > fileLength)
                throw new ModelFormatException(path, null, $"header length {headerLen} runs past the end of the {fileLength}-byte file (truncated?)");
            map = MemoryMappedFile.CreateFromFile(fs, null, fileLength, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        }
        catch
        {
            if (map is null) fs.Dispose();
            throw;
        }
        return FromMapping(path, map, fileLength, (long)headerLen);
    }

    private static SafeTensorsFile FromMapping(string path, MemoryMappedFile map, long fileLength, long headerLen)
    {
        MemoryMappedViewAccessor view;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }
        catch
        {
            map.Dispose();
            throw;
        }
        byte* ptr = null;
        try
        {
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            ptr += view.PointerOffset;
            var header = new ReadOnlySpan<byte>(ptr + 8, (int)headerLen);
            long dataStart = 8 + headerLen;
            var (tensors, metadata) = ParseHeader(path, header, fileLength - dataStart);
            return new SafeTensorsFile(path, map, view, ptr, dataStart, tensors, metadata);
        }
        catch
        {
            if (ptr != null) view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            map.Dispose();
            throw;
        }
    }

    internal static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, ReadOnlySpan<byte> header, long dataLength)
    {
        // Names and metadata become .NET strings; invalid UTF-8 would otherwise surface as an exception deep in the
        // JSON reader's transcoding, naming nothing.
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            int bad = FirstInvalidUtf8(header);
            throw new ModelFormatException(path, null, $"header is not valid UTF-8 (byte {8 + bad} of the file, {Snippet(header, bad)}): tensor names and metadata must be UTF-8");
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, null, $"header is not valid JSON ({e.Message})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(path, null, "header is not a JSON object");
            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (sawMetadata) throw new ModelFormatException(path, null, "__metadata__ appears twice");
                    sawMetadata = true;
                    if (prop.Value.ValueKind != JsonValueKind.Object)
                        throw new ModelFormatException(path, null, "__metadata__ is not an object");
                    foreach (var m in prop.Value.EnumerateObject())
                        if (!metadata.TryAdd(m.Name, m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText()))
                            throw new ModelFormatException(path, null, $"__metadata__ key '{m.Name}' appears twice");
                    continue;
                }
                // JSON allows a repeated key and readers differ on which one wins: a file that repeats a tensor is ambiguous.
                if (!tensors.TryAdd(prop.Name, ParseEntry(path, prop.Name, prop.Value, dataLength)))
                    throw new ModelFormatException(path, prop.Name, "appears twice in the header");
            }
            CheckNoOverlap(path, tensors.Values);
            return (tensors, metadata);
        }
    }

    private static SafeTensorInfo ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, name, "entry is not an object");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new ModelFormatException(path, name, "missing dtype");
        if (!DTypes.TryParse(dt.GetString()!, out var dtype))
            throw new ModelFormatException(path, name, $"unknown dtype '{dt.GetString()}'");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException(path, name, "missing shape");
        if (sh.GetArrayLength() > 8) throw new ModelFormatException(path, name, $"rank {sh.GetArrayLength()} is more than 8");
        var shape = new int[sh.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0 || v > int.MaxValue)
                throw new ModelFormatException(path, name, $"bad dimension {d.GetRawText()} in shape");
            shape[i++] = (int)v;
            count = v == 0 || count == 0 ? 0 : (count > long.MaxValue / v ? throw ShapeTooLarge(path, name, sh) : count * v);
        }
        if (count > long.MaxValue / DTypes.Size(dtype)) throw ShapeTooLarge(path, name, sh);
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new ModelFormatException(path, name, "missing data_offsets [begin, end]");
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new ModelFormatException(path, name, $"bad data_offsets {off.GetRawText()}");
        if (end > dataLength)
            throw new ModelFormatException(path, name, $"data_offsets {off.GetRawText()} run past the {dataLength}-byte data section (truncated file?)");
        long expected = count * DTypes.Size(dtype);
        if (end - begin != expected)
            throw new ModelFormatException(path, name, $"holds {end - begin} bytes but {DTypes.Name(dtype)} {TensorShape.Format(shape)} needs {expected}");
        return new SafeTensorInfo(name, dtype, shape, begin, end - begin);
    }

    private static ModelFormatException ShapeTooLarge(string path, string name, JsonElement shape) =>
        new(path, name, $"shape {shape.GetRawText()} holds more than 2^63 bytes (corrupt header)");

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[i..], out _, out int used) != System.Buffers.OperationStatus.Done) return i;
            i += used;
        }
        return bytes.Length;
    }

    /// <summary>A few bytes around an offset of the header, printable ASCII kept and the rest as hex, for messages.</summary>
    private static string Snippet(ReadOnlySpan<byte> header, int at)
    {
        int from = Math.Max(0, at - 16), to = Math.Min(header.Length, at + 4);
        var sb = new System.Text.StringBuilder("near \"");
        for (int i = from; i < to; i++) sb.Append(header[i] is >= 0x20 and < 0x7F and not (byte)'"' ? (char)header[i] : $"\\x{header[i]:X2}");
        return sb.Append('"').ToString();
    }

    private static void CheckNoOverlap(string path, IEnumerable<SafeTensorInfo> tensors)
    {
        SafeTensorInfo? prev = null;
        foreach (var t in tensors.Where(t => t.Length > 0).OrderBy(t => t.Offset))
        {
            if (prev is not null && t.Offset < prev.Offset + prev.Length)
                throw new ModelFormatException(path, t.Name, $"overlaps tensor '{prev.Name}'");
            prev = t;
        }
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafeTensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new ModelFormatException(Path, name, "missing");

    /// <summary>A tensor's shape with rank-checked indexing (see <see cref="TensorDims"/>).</summary>
    public TensorDims Dims(string name) => new(Path, name, Info(name).Shape);

    /// <summary>The raw little-endian bytes of a tensor, a view into the mapping (valid until Dispose).</summary>
    public ReadOnlySpan<byte> Bytes(string name) => Bytes(Info(name));

    public ReadOnlySpan<byte> Bytes(SafeTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_view is null, this);
        return new ReadOnlySpan<byte>(_base + _dataStart + info.Offset, checked((int)info.Length));
    }

    /// <summary>A tensor widened to fp32 (any float dtype, or an integer dtype).</summary>
    /// <param name="longLived">
    /// The array lives as long as a model (a CPU weight): it goes to the pinned-object heap, which the GC never
    /// compacts, so it is never copied from generation to generation (ld raises the large-object threshold, which
    /// would otherwise send weights under 4 MB through gen0 and gen1: +2 GB of peak for SDXL's load, measured).
    /// </param>
    public float[] ReadFloat32(string name, ReadOnlySpan<int> expectShape = default, bool longLived = false)
    {
        var info = Info(name);
        if (!expectShape.IsEmpty && !TensorShape.Equal(info.Shape, expectShape))
            throw new ModelFormatException(Path, name, $"has shape {TensorShape.Format(info.Shape)}, expected {TensorShape.Format(expectShape)}");
        int count = checked((int)info.ElementCount);
        var result = longLived ? GC.AllocateUninitializedArray<float>(count, pinned: true) : new float[count];
        Convert.ToFloat32(Bytes(info), info.DType, result);
        return result;
    }

    public long[] ReadInt64(string name)
    {
        var info = Info(name);
        var b = Bytes(info);
        var result = new long[info.ElementCount];
        switch (info.DType)
        {
            case DType.I64: MemoryMarshal.Cast<byte, long>(b).CopyTo(result); break;
            case DType.I32: { var s = MemoryMarshal.Cast<byte, int>(b); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.U8 or DType.Bool: for (int i = 0; i < b.Length; i++) result[i] = b[i]; break;
            default: throw new ModelFormatException(Path, name, $"is {DTypes.Name(info.DType)}, expected an integer tensor");
        }
        return result;
    }

    public byte[] ReadBytesU8(string name)
    {
        var info = Info(name);
        if (info.DType is not (DType.U8 or DType.Bool)) throw new ModelFormatException(Path, name, $"is {DTypes.Name(info.DType)}, expected U8");
        return Bytes(info).ToArray();
    }

    public void Dispose()
    {
        if (_view is null) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map?.Dispose();
        GC.SuppressFinalize(this);
    }
}
