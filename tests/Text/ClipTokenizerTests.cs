using System.Text;
using LayerDiffusion.Native.Text;
using Xunit;

namespace LayerDiffusion.Native.Tests.Text;

public sealed class ClipTokenizerTests
{
    // sdxl.md 4.4 test vectors (ids without start/end).
    [Theory]
    [InlineData("a photo of a cat", new[] { 320, 1125, 539, 320, 2368 })]
    [InlineData("masterpiece, best quality, 1girl, looking at viewer", new[] { 12066, 267, 949, 3027, 267, 272, 1611, 267, 1312, 536, 15061 })]
    [InlineData("An astronaut riding a green horse on Mars!!", new[] { 550, 18376, 6765, 320, 1901, 4558, 525, 7496, 748 })]
    [InlineData("don't panic: it's 2024 & we're fine", new[] { 847, 713, 14124, 281, 585, 568, 273, 271, 273, 275, 261, 649, 982, 3797 })]
    public void MatchesTheSpecTestVectors(string text, int[] ids)
    {
        var tok = ClipTokenizer.Load(TestPaths.VocabPath);
        Assert.Equal(ids, tok.Encode(text));
        Assert.Equal(49406, tok.StartToken);
        Assert.Equal(49407, tok.EndToken);
        Assert.Equal(267, tok.CommaToken);
        Assert.Equal(49408, tok.VocabSize);
    }

    [Fact]
    public void CleansWhitespaceAndCase()
    {
        var tok = ClipTokenizer.Load(TestPaths.VocabPath);
        Assert.Equal(tok.Encode("a photo of a cat"), tok.Encode("  A\tPHOTO \n of   a Cat "));
        Assert.Empty(tok.Encode("   "));
    }

    [Fact]
    public void SpecialTokenTextMapsToItsId()
    {
        var tok = ClipTokenizer.Load(TestPaths.VocabPath);
        Assert.Equal([320, tok.EndToken, 2368], tok.Encode("a <|endoftext|> cat"));
    }

    /// <summary>
    /// A vocabulary small enough to write by hand: h, i, their word-final forms, "hi&lt;/w&gt;", "," and the specials
    /// (written with a UTF-8 byte-order mark, as some editors save it).
    /// </summary>
    private static string WriteTinyHfTokenizer(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "vocab.json"),
            """{"h": 0, "i": 1, "h</w>": 2, "i</w>": 3, ",</w>": 4, "hi</w>": 5, "<|startoftext|>": 6, "<|endoftext|>": 7}""",
            Encoding.UTF8);
        File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\nh i</w>\n", Encoding.UTF8);
        return dir;
    }

    [Fact]
    public void LoadsVocabJsonAndMergesFromEveryLayout()
    {
        string root = TestPaths.TempDir();
        try
        {
            string tokDir = WriteTinyHfTokenizer(Path.Combine(root, "model", "tokenizer"));
            foreach (var path in new[] { Path.Combine(root, "model"), tokDir, Path.Combine(tokDir, "vocab.json"), Path.Combine(tokDir, "merges.txt") })
            {
                var tok = ClipTokenizer.Load(path);
                Assert.Equal([5], tok.Encode("hi"));
                Assert.Equal([5, 4, 1, 2], tok.Encode("HI, ih"));
                Assert.Equal(6, tok.StartToken);
                Assert.Equal(7, tok.EndToken);
                Assert.Equal(4, tok.CommaToken);
                Assert.Equal(8, tok.VocabSize);
            }
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void GzipAndHfFilesOfTheSameVocabularyAgree()
    {
        var fromGz = ClipTokenizer.Load(TestPaths.VocabPath);
        string dir = TestPaths.TempDir();
        try
        {
            // Rebuild vocab.json / merges.txt from the gzip the way CLIP orders its vocabulary.
            var lines = ReadGzipLines(TestPaths.VocabPath).Skip(1).Take(ClipTokenizer.MaxMerges).ToList();
            var symbols = new List<string>();
            var byteSyms = ByteSymbols();
            symbols.AddRange(byteSyms);
            symbols.AddRange(byteSyms.Select(s => s + "</w>"));
            symbols.AddRange(lines.Select(l => l.Replace(" ", "")));
            symbols.Add("<|startoftext|>");
            symbols.Add("<|endoftext|>");
            using (var fs = File.Create(Path.Combine(dir, "vocab.json")))
            using (var w = new System.Text.Json.Utf8JsonWriter(fs))
            {
                w.WriteStartObject();
                for (int i = 0; i < symbols.Count; i++) w.WriteNumber(symbols[i], i);
                w.WriteEndObject();
            }
            File.WriteAllLines(Path.Combine(dir, "merges.txt"), lines.Prepend("#version: 0.2"));
            var fromHf = ClipTokenizer.Load(dir);
            foreach (var text in new[] { "photograph close up portrait of Female boxer", "Café naïve — don't STOP!!! 1024x1024 #tags", "🦊 fox, 日本" })
                Assert.Equal(fromGz.Encode(text), fromHf.Encode(text));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void MissingFilesSayWhereToPointTokenizer()
    {
        string dir = TestPaths.TempDir();
        try
        {
            var e = Assert.Throws<LdException>(() => ClipTokenizer.Load(dir));
            Assert.Contains("A tokenizer is a diffusers tokenizer folder", e.Message);
            e = Assert.Throws<LdException>(() => ClipTokenizer.Load(Path.Combine(dir, "nope.txt.gz")));
            Assert.Contains("A tokenizer is a diffusers tokenizer folder", e.Message);
            File.WriteAllText(Path.Combine(dir, "vocab.json"), "{}");
            e = Assert.Throws<LdException>(() => ClipTokenizer.Load(Path.Combine(dir, "vocab.json")));
            Assert.Contains("merges.txt", e.Message);
            File.WriteAllText(Path.Combine(dir, "broken.txt.gz"), "not gzip");
            e = Assert.Throws<LdException>(() => ClipTokenizer.Load(Path.Combine(dir, "broken.txt.gz")));
            Assert.Contains("A tokenizer is a diffusers tokenizer folder", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ByteLevelTokenizerIsDeterministicAndFitsTheVocabulary()
    {
        var tok = new ByteLevelTokenizer(49408);
        Assert.Equal([1 + 'a', 1 + 'b'], tok.Encode("ab"));
        Assert.Equal(49406, tok.StartToken);
        Assert.Equal(49407, tok.EndToken);
        Assert.Equal(1 + ',', tok.CommaToken);
        var small = new ByteLevelTokenizer(100);
        Assert.All(small.Encode("Grüße, 🦊!"), id => Assert.InRange(id, 1, 96));
        Assert.Equal(99, small.EndToken);
        Assert.Throws<InvalidOptionException>(() => new ByteLevelTokenizer(3));
    }

    private static IEnumerable<string> ReadGzipLines(string path)
    {
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
        using var r = new StreamReader(gz, Encoding.UTF8);
        while (r.ReadLine() is { } line) yield return line;
    }

    /// <summary>bytes_to_unicode's values in insertion order, written out independently of the engine's table.</summary>
    private static List<string> ByteSymbols()
    {
        var bs = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        var cs = new List<int>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!bs.Contains(b)) { bs.Add(b); cs.Add(256 + n++); }
        return cs.Select(c => ((char)c).ToString()).ToList();
    }
}
