using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LayerDiffusion.Native.IO;

/// <summary>
/// SHA-256 of model files as A1111/Forge use them in infotext ("Model hash": the first 10 hex digits of the whole
/// file's SHA-256). A checkpoint is gigabytes, so each hash is kept in a small cache file keyed by the full path, size
/// and last-write time (as A1111's cache.json keys by mtime): a file is read once until it changes.
/// </summary>
public sealed class FileHashes
{
    private readonly string _cachePath;

    /// <param name="cachePath">The cache file; default $LD_CACHE_DIR/hashes.tsv, else the temp folder's ld-cache.</param>
    public FileHashes(string? cachePath = null)
    {
        _cachePath = cachePath ?? Path.Combine(
            Environment.GetEnvironmentVariable("LD_CACHE_DIR") is { Length: > 0 } c ? c : Path.Combine(Path.GetTempPath(), "ld-cache"), "hashes.tsv");
    }

    /// <summary>A1111's checkpoint shorthash: sha256[:10].</summary>
    public string ShortHash(string path) => Sha256(path)[..10];

    /// <summary>The file's SHA-256 (lower-case hex), from the cache when path, size and mtime match.</summary>
    public string Sha256(string path) => Cached(path, "sha256", () =>
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return System.Convert.ToHexStringLower(SHA256.HashData(stream));
    });

    /// <summary>
    /// The "addnet" hash A1111 gives safetensors LoRAs: SHA-256 of the bytes after the header (8-byte length plus the
    /// JSON), so editing the metadata does not change it.
    /// </summary>
    public string AddnetHash(string path) => Cached(path, "addnet", () =>
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        Span<byte> len = stackalloc byte[8];
        stream.ReadExactly(len);
        long header = BitConverter.ToInt64(len);
        if (header < 0 || header > stream.Length - 8) throw new ModelFormatException(path, null, "safetensors header length is out of range");
        stream.Seek(8 + header, SeekOrigin.Begin);
        return System.Convert.ToHexStringLower(SHA256.HashData(stream));
    });

    private string Cached(string path, string kind, Func<string> compute)
    {
        var info = new FileInfo(path);
        string full = info.FullName;
        string key = string.Join('\t', kind, info.Length.ToString(CultureInfo.InvariantCulture),
            info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture), full);
        var entries = Load();
        if (entries.TryGetValue(key, out var hash)) return hash;
        hash = compute();
        // Entries for an older version of the same file are dropped; the rest are kept.
        foreach (var stale in entries.Keys.Where(k => k.StartsWith(kind + "\t", StringComparison.Ordinal) && k.EndsWith("\t" + full, StringComparison.Ordinal)).ToList())
            entries.Remove(stale);
        entries[key] = hash;
        Save(entries);
        return hash;
    }

    private Dictionary<string, string> Load()
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(_cachePath)) return entries;
        try
        {
            foreach (var line in File.ReadLines(_cachePath, Encoding.UTF8))
            {
                // hash \t kind \t size \t ticks \t path (the path last: it may hold tabs)
                var parts = line.Split('\t', 5);
                if (parts.Length == 5 && parts[0].Length == 64 && parts[0].All(char.IsAsciiHexDigitLower))
                    entries[string.Join('\t', parts[1..])] = parts[0];
            }
        }
        catch (IOException) { } // an unreadable cache is only a slower run
        catch (UnauthorizedAccessException) { }
        return entries;
    }

    private void Save(Dictionary<string, string> entries)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_cachePath))!);
            // Written beside and renamed over, so a reader never sees half a file.
            string temp = $"{_cachePath}.{Guid.NewGuid():N}.tmp";
            File.WriteAllLines(temp, entries.Select(kv => kv.Value + "\t" + kv.Key), new UTF8Encoding(false));
            File.Move(temp, _cachePath, overwrite: true);
        }
        catch (IOException) { } // a cache that cannot be written costs a rehash next time, nothing else
        catch (UnauthorizedAccessException) { }
    }
}
