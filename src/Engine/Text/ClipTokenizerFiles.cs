using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace LayerDiffusion.Native.Text;

/// <summary>Finds and reads CLIP tokenizer files in the layouts users have: diffusers folders, HF files, CLIP's gzip.</summary>
internal static class ClipTokenizerFiles
{
    public const string Hint = "Point --tokenizer at a diffusers tokenizer folder (or the model folder holding tokenizer/), " +
                               "at vocab.json with merges.txt beside it, or at bpe_simple_vocab_16e6.txt.gz.";
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
            throw new LdException($"{path}: cannot read the tokenizer ({e.Message}). {Hint}", e);
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
        if (!File.Exists(path)) throw new LdException($"{path}: no such tokenizer file or folder. {Hint}");
        string name = Path.GetFileName(path);
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return new(null, path, Gzip: true);
        if (name.Equals(VocabJson, StringComparison.OrdinalIgnoreCase))
        {
            string merges = Path.Combine(dir, MergesTxt);
            return File.Exists(merges) ? new(path, merges, false) : throw new LdException($"{path}: {MergesTxt} is missing beside it. {Hint}");
        }
        if (name.Equals(MergesTxt, StringComparison.OrdinalIgnoreCase))
            return File.Exists(Path.Combine(dir, VocabJson)) ? new(Path.Combine(dir, VocabJson), path, false) : new(null, path, false);
        if (name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)) return new(null, path, false);
        throw new LdException($"{path}: not a tokenizer file. {Hint}");
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
        throw new LdException($"{dir}: no vocab.json + merges.txt (in the folder or its tokenizer/ folder) and no {ClipGzip}. {Hint}");
    }

    private static ClipTokenizer FromClipMerges(string path, bool gzip)
    {
        using var file = File.OpenRead(path);
        using Stream data = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(data, Encoding.UTF8);
        return ClipTokenizer.FromMergesFile(ReadLines(reader), path);
    }

    private static ClipTokenizer FromHfFiles(string vocabPath, string mergesPath)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var json = File.ReadAllBytes(vocabPath);
        int bom = json.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0; // editors on Windows add one
        using (var doc = JsonDocument.Parse(json.AsMemory(bom)))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new LdException($"{vocabPath}: expected a JSON object of token → id. {Hint}");
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                    throw new LdException($"{vocabPath}: token '{p.Name}' has no valid id. {Hint}");
                vocab[p.Name] = id;
            }
        }
        var merges = ParseMerges(File.ReadLines(mergesPath, Encoding.UTF8), mergesPath);
        return new ClipTokenizer(vocab, merges, vocabPath);
    }

    /// <summary>
    /// Merge pairs of a CLIP/HF merges file in rank order: the "#version" header skipped, blank lines ignored,
    /// at most <see cref="ClipTokenizer.MaxMerges"/> read (CLIP and HF both stop there).
    /// </summary>
    public static List<(string, string)> ParseMerges(IEnumerable<string> lines, string source)
    {
        var merges = new List<(string, string)>(ClipTokenizer.MaxMerges);
        bool first = true;
        int lineNo = 0;
        foreach (var raw in lines)
        {
            lineNo++;
            if (first)
            {
                first = false;
                if (raw.Contains("#version", StringComparison.Ordinal) || raw.StartsWith('#')) continue;
            }
            if (string.IsNullOrWhiteSpace(raw)) continue;
            if (merges.Count == ClipTokenizer.MaxMerges) break;
            var parts = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2) throw new LdException($"{source}: line {lineNo} is not a merge pair ('{raw}'). {Hint}");
            merges.Add((parts[0], parts[1]));
        }
        if (merges.Count == 0) throw new LdException($"{source}: holds no merges. {Hint}");
        return merges;
    }

    private static IEnumerable<string> ReadLines(StreamReader reader)
    {
        while (reader.ReadLine() is { } line) yield return line;
    }
}
