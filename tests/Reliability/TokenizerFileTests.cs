using LayerDiffusion.Native.Cli;
using System.IO.Compression;
using System.Text;
using LayerDiffusion.Native.Tests.CliFlows;
using LayerDiffusion.Native.Text;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// Damaged tokenizer files are refused, naming the file (and the line), instead of loading and silently tokenizing
/// prompts differently: a cut-short or corrupted gzip, merge lines that are not pairs of known symbols, non-UTF-8
/// text, fewer merges than CLIP reads, a vocab.json its merges.txt does not match.
/// </summary>
public sealed class TokenizerFileTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();
    private static readonly byte[] Gz = File.ReadAllBytes(TestPaths.VocabPath);
    private static readonly string[] Lines = Gunzip(Gz).Split('\n');

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Gunzip(byte[] gz)
    {
        using var z = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var r = new StreamReader(z, Encoding.UTF8);
        return r.ReadToEnd();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static LdException Refused(string path, params string[] expected)
    {
        var e = Assert.ThrowsAny<LdException>(() => ClipTokenizer.Load(path));
        Assert.Contains(Path.GetFileName(path), e.Message);
        foreach (var x in expected) Assert.Contains(x, e.Message);
        return e;
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.99)]
    public void AGzipCutShortIsRefused(double keep) =>
        Refused(Write("bpe_simple_vocab_16e6.txt.gz", Gz[..(int)(Gz.Length * keep)]), "gzip");

    [Fact]
    public void AGzipMissingOnlyItsTrailerIsRefused() =>
        Refused(Write("bpe_simple_vocab_16e6.txt.gz", Gz[..^4]), "gzip");

    [Fact]
    public void AGzipWithADamagedByteIsRefused()
    {
        var damaged = (byte[])Gz.Clone();
        damaged[damaged.Length / 3] ^= 0x40;
        Refused(Write("bpe_simple_vocab_16e6.txt.gz", damaged), "gzip");
    }

    private string MergesText(Func<string[], string[]> edit) =>
        Write("merges-only.txt", Encoding.UTF8.GetBytes(string.Join('\n', edit((string[])Lines.Clone()))));

    [Fact]
    public void AMergesFileCutShortIsRefusedWithTheCount() =>
        Refused(MergesText(l => l[..1001]), "holds 1000 merges", $"first {ClipTokenizer.MaxMerges}", "49408 tokens");

    [Theory]
    [InlineData("t h e", "is not a merge pair")]
    [InlineData("th", "is not a merge pair")]
    [InlineData("zq@ xx", "merges 'zq@', which is neither a byte symbol nor the result of an earlier merge")]
    [InlineData("in LATE", "merges 'LATE', which is neither")] // LATE: a symbol CLIP makes, but only at line 40001
    public void AGarbageMergeLineIsRefusedNamingTheLine(string line, string expected)
    {
        string late = Lines[40000].Replace(" ", "");
        Refused(MergesText(l => { l[499] = line.Replace("LATE", late); return l; }), "line 500", expected.Replace("LATE", late));
    }

    [Fact]
    public void NonUtf8TextIsRefusedNamingTheLine()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Join('\n', Lines));
        int at = Encoding.UTF8.GetByteCount(string.Join('\n', Lines[..299]) + "\n") + 1;
        bytes[at] = 0xFF;
        Refused(Write("merges-only.txt", bytes), "line 300 is not UTF-8");
    }

    /// <summary>vocab.json + merges.txt rebuilt from CLIP's file the way CLIP numbers its vocabulary.</summary>
    private string HfFolder(Func<string[], string[]>? editMerges = null, Action<Dictionary<string, int>>? editVocab = null)
    {
        string dir = Path.Combine(_dir, "hf-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        var merges = Lines.Skip(1).Take(ClipTokenizer.MaxMerges).ToArray();
        var symbols = new List<string>();
        var bytes = ByteSymbols();
        symbols.AddRange(bytes);
        symbols.AddRange(bytes.Select(s => s + "</w>"));
        symbols.AddRange(merges.Select(m => m.Replace(" ", "")));
        symbols.Add("<|startoftext|>");
        symbols.Add("<|endoftext|>");
        var vocab = symbols.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i);
        editVocab?.Invoke(vocab);
        using (var fs = File.Create(Path.Combine(dir, "vocab.json")))
        using (var w = new System.Text.Json.Utf8JsonWriter(fs))
        {
            w.WriteStartObject();
            foreach (var (s, i) in vocab) w.WriteNumber(s, i);
            w.WriteEndObject();
        }
        File.WriteAllLines(Path.Combine(dir, "merges.txt"), (editMerges?.Invoke(merges) ?? merges).Prepend("#version: 0.2"));
        return dir;
    }

    private static List<string> ByteSymbols()
    {
        var bs = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        var cs = new List<int>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!bs.Contains(b)) { bs.Add(b); cs.Add(256 + n++); }
        return cs.Select(c => ((char)c).ToString()).ToList();
    }

    [Fact]
    public void AnIntactHuggingFaceLayoutLoads() => Assert.Equal(49408, ClipTokenizer.Load(HfFolder()).VocabSize);

    [Fact]
    public void AMergesTxtCutShortAgainstItsVocabIsRefused() =>
        Refused(Path.Combine(HfFolder(m => m[..20000]), "vocab.json"), "is made by no merge", "20000 merges read");

    [Fact]
    public void AMergeOutsideTheVocabularyIsRefused() =>
        Refused(Path.Combine(HfFolder(m => { m[10] = "ĠxyzĠ q"; return m; }), "vocab.json"), "line 12", "not in vocab.json");

    [Fact]
    public void TwoTokensWithOneIdAreRefused() =>
        Refused(Path.Combine(HfFolder(editVocab: v => v["in"] = v["th"]), "vocab.json"), "share id");

    [Fact]
    public void TheCliRefusesADamagedTokenizerBeforeAnyWork()
    {
        string gz = Write("bpe_simple_vocab_16e6.txt.gz", Gz[..(Gz.Length / 2)]);
        var (code, _, stderr) = CliRunner.Run(["generate", "--model", TestPaths.Golden("tiny_sdxl.safetensors"), "--tokenizer", gz,
            "--layer-model", TestPaths.Golden("patch_attn_lora.safetensors"), "--transparent-decoder", TestPaths.Golden("tiny_transparent_decoder.safetensors"),
            "--out", Path.Combine(_dir, "o.png"), .. CliFiles.Small]);
        Assert.Equal(ExitCodes.ModelFile, code);
        Assert.Contains(gz, stderr);
        Assert.Contains("gzip", stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "o.png")));
    }
}
