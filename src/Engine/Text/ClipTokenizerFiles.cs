using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace LayerDiffusion.Native.Text;

/// <summary>Finds and reads CLIP tokenizer files in the layouts users have: diffusers folders, HF files, CLIP's gzip.</summary>
internal static class ClipTokenizerFiles
{
    public const string Hint = "A tokenizer is a diffusers tokenizer folder (or the model folder holding tokenizer/), " +
                               "vocab.json with merges.txt beside it, or bpe_simple_vocab_16e6.txt.gz.";
    private const string VocabJson = "vocab.json";
    private const string MergesTxt = "merges.txt";
    private const string ClipGzip = "bpe_simple_vocab_16e6.txt.gz";

    /// <summary>The files a tokenizer path stands for: vocab.json (null for CLIP's merges-only format) and the merges file.</summary>
    private sealed record Located(string? Vocab, string Merges, bool Gzip);

    public static ClipTokenizer Load(string path)
    {
        try
        {
            var l = Locate(path);
            return l.Vocab is not null ? FromHfFiles(l.Vocab, l.Merges) : FromClipMerges(l.Merges, l.Gzip);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or JsonException)
        {
            // Unreadable is a file error; damaged gzip or JSON is a broken tokenizer file.
            throw new LdException($"{path}: cannot read the tokenizer ({e.Message}). {Hint}", e)
                { Kind = e is IOException or UnauthorizedAccessException && e is not InvalidDataException ? ErrorKind.FileAccess : ErrorKind.ModelFile };
        }
    }

    /// <summary>The files <see cref="Load"/> reads for <paramref name="path"/> (what a run declares as its tokenizer inputs).</summary>
    public static IReadOnlyList<string> FilesOf(string path)
    {
        var l = Locate(path);
        return l.Vocab is null ? [l.Merges] : [l.Vocab, l.Merges];
    }

    private static Located Locate(string path)
    {
        if (Directory.Exists(path)) return LocateInFolder(path);
        if (!File.Exists(path)) throw new LdException($"{path}: no such tokenizer file or folder. {Hint}") { Kind = ErrorKind.FileAccess };
        string name = Path.GetFileName(path);
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return new(null, path, Gzip: true);
        if (name.Equals(VocabJson, StringComparison.OrdinalIgnoreCase))
        {
            string merges = Path.Combine(dir, MergesTxt);
            return File.Exists(merges) ? new(path, merges, false) : throw new LdException($"{path}: {MergesTxt} is missing beside it. {Hint}") { Kind = ErrorKind.ModelFile };
        }
        if (name.Equals(MergesTxt, StringComparison.OrdinalIgnoreCase))
            return File.Exists(Path.Combine(dir, VocabJson)) ? new(Path.Combine(dir, VocabJson), path, false) : new(null, path, false);
        if (name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)) return new(null, path, false);
        throw new LdException($"{path}: not a tokenizer file. {Hint}") { Kind = ErrorKind.ModelFile };
    }

    private static Located LocateInFolder(string dir)
    {
        foreach (var d in new[] { Path.Combine(dir, "tokenizer"), dir })
        {
            string vocab = Path.Combine(d, VocabJson), merges = Path.Combine(d, MergesTxt);
            if (File.Exists(vocab) && File.Exists(merges)) return new(vocab, merges, false);
        }
        string gz = Path.Combine(dir, ClipGzip);
        if (File.Exists(gz)) return new(null, gz, Gzip: true);
        throw new LdException($"{dir}: no vocab.json + merges.txt (in the folder or its tokenizer/ folder) and no {ClipGzip}. {Hint}") { Kind = ErrorKind.ModelFile };
    }

    /// <summary>Tokenizer files are a few MB; anything far larger is not one (and is not read into memory).</summary>
    private const long MaxFileBytes = 64L << 20;

    private static ClipTokenizer FromClipMerges(string path, bool gzip)
    {
        var bytes = gzip ? Gunzip(path) : ReadBounded(path);
        return ClipTokenizer.FromMergesFile(Utf8Text(bytes, path).Split('\n'), path);
    }

    private static ClipTokenizer FromHfFiles(string vocabPath, string mergesPath)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var json = ReadBounded(vocabPath);
        int bom = json.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0; // editors on Windows add one
        Utf8Text(json.AsSpan(bom).ToArray(), vocabPath);
        using (var doc = JsonDocument.Parse(json.AsMemory(bom)))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new LdException($"{vocabPath}: expected a JSON object of token → id. {Hint}") { Kind = ErrorKind.ModelFile };
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                    throw new LdException($"{vocabPath}: token '{p.Name}' has no valid id. {Hint}") { Kind = ErrorKind.ModelFile };
                if (!vocab.TryAdd(p.Name, id)) throw new LdException($"{vocabPath}: token '{p.Name}' appears twice. {Hint}") { Kind = ErrorKind.ModelFile };
            }
        }
        var merges = BpeMerges.Parse(Utf8Text(ReadBounded(mergesPath), mergesPath).Split('\n'), mergesPath, vocab);
        BpeMerges.CheckVocabulary(vocab, merges, vocabPath, mergesPath);
        return new ClipTokenizer(vocab, merges, vocabPath);
    }

    private static byte[] ReadBounded(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (fs.CanSeek && fs.Length > MaxFileBytes) throw new LdException($"{path}: {fs.Length} bytes is far larger than a tokenizer file. {Hint}") { Kind = ErrorKind.ModelFile };
        var ms = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = fs.Read(buffer)) > 0)
        {
            if (ms.Length + n > MaxFileBytes) throw new LdException($"{path}: far larger than a tokenizer file. {Hint}") { Kind = ErrorKind.ModelFile };
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }

    /// <summary>
    /// A gzip file decompressed and checked against its own trailer (CRC-32 and length of the data): a file cut short
    /// or damaged would otherwise decompress to fewer merges, or different ones, without an error.
    /// </summary>
    private static byte[] Gunzip(string path)
    {
        var compressed = ReadBounded(path);
        if (compressed.Length < 18 || compressed[0] != 0x1F || compressed[1] != 0x8B)
            throw new LdException($"{path}: not a gzip file. {Hint}") { Kind = ErrorKind.ModelFile };
        uint wantCrc = BitConverter.ToUInt32(compressed, compressed.Length - 8), wantSize = BitConverter.ToUInt32(compressed, compressed.Length - 4);
        var data = new MemoryStream();
        try
        {
            using var z = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = z.Read(buffer)) > 0)
            {
                if (data.Length + n > 4 * MaxFileBytes) throw new LdException($"{path}: decompresses to far more than a tokenizer file. {Hint}") { Kind = ErrorKind.ModelFile };
                data.Write(buffer, 0, n);
            }
        }
        catch (InvalidDataException e)
        {
            throw new LdException($"{path}: the gzip data is corrupt ({e.Message}). {Hint}") { Kind = ErrorKind.ModelFile };
        }
        var bytes = data.ToArray();
        if (Imaging.Png.Crc32.Update(0, bytes) != wantCrc || (uint)bytes.Length != wantSize)
            throw new LdException($"{path}: the gzip data is cut short or damaged (it decompresses to {bytes.Length} bytes that do not match the " +
                $"CRC-32 and length its trailer records). {Hint}") { Kind = ErrorKind.ModelFile };
        return bytes;
    }

    /// <summary>The bytes as text, which must be UTF-8 (invalid bytes are an error naming the line, not replacement characters).</summary>
    private static string Utf8Text(byte[] bytes, string path)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return Encoding.UTF8.GetString(bytes);
        int line = 1, i = 0;
        while (i < bytes.Length && Rune.DecodeFromUtf8(bytes.AsSpan(i), out _, out int used) == System.Buffers.OperationStatus.Done)
        {
            if (bytes[i] == (byte)'\n') line++;
            i += used;
        }
        throw new LdException($"{path}: line {line} is not UTF-8 text (byte {i}). {Hint}") { Kind = ErrorKind.ModelFile };
    }
}
