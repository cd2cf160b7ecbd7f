using System.Text;

namespace LayerDiffusion.Native.Text;

/// <summary>
/// OpenAI CLIP's byte-level BPE (clip/simple_tokenizer.py; the same vocabulary as Hugging Face's CLIPTokenizer
/// that Forge uses for both SDXL encoders): clean the text, split it with CLIP's regex, map each piece's UTF-8
/// bytes to byte symbols, mark the last one with &lt;/w&gt;, merge lowest-rank pairs first.
/// </summary>
public sealed class ClipTokenizer : ITokenizer
{
    /// <summary>CLIP reads only this many merges (49152 - 256 byte symbols - 2 specials), as HF does too.</summary>
    public const int MaxMerges = 49152 - 256 - 2;
    public const string WordEnd = "</w>";
    private const int CacheLimit = 100_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal); // guarded by itself, like CLIP's bpe cache

    /// <param name="vocab">symbol → id, including &lt;|startoftext|&gt; and &lt;|endoftext|&gt;</param>
    /// <param name="merges">merge pairs in rank order (rank = index; a repeated pair keeps its last rank, as a Python dict does)</param>
    /// <param name="source">where the vocabulary came from, for messages</param>
    public ClipTokenizer(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string source)
    {
        Source = source;
        _vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        _ranks = new Dictionary<(string, string), int>(merges.Count);
        for (int i = 0; i < merges.Count; i++) _ranks[merges[i]] = i;
        StartToken = Require(ClipPreTokenizer.StartOfText);
        EndToken = Require(ClipPreTokenizer.EndOfText);
        CommaToken = _vocab.TryGetValue("," + WordEnd, out int comma) ? comma : -1;
        VocabSize = _vocab.Values.Max() + 1;
    }

    public string Source { get; }
    public int StartToken { get; }
    public int EndToken { get; }
    public int CommaToken { get; }
    public int VocabSize { get; }

    /// <summary>
    /// Loads a diffusers model folder (its tokenizer/ folder), a tokenizer folder, vocab.json (with merges.txt
    /// beside it) or CLIP's bpe_simple_vocab_16e6.txt.gz.
    /// </summary>
    public static ClipTokenizer Load(string path) => ClipTokenizerFiles.Load(path);

    /// <summary>The files <see cref="Load"/> reads for a path (a run declares them as inputs).</summary>
    public static IReadOnlyList<string> FilesOf(string path) => ClipTokenizerFiles.FilesOf(path);

    /// <summary>
    /// Builds the vocabulary as CLIP's SimpleTokenizer does from its merges file (first line a header): the 256
    /// byte symbols, the same with &lt;/w&gt;, one symbol per merge, then the two specials.
    /// </summary>
    public static ClipTokenizer FromMergesFile(IEnumerable<string> lines, string source)
    {
        var merges = BpeMerges.Parse(lines, source);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (char c in ByteUnicode.Symbols) vocab[c.ToString()] = vocab.Count;
        foreach (char c in ByteUnicode.Symbols) vocab[c + WordEnd] = vocab.Count;
        foreach (var (l, r) in merges) vocab[l + r] = vocab.Count;
        vocab[ClipPreTokenizer.StartOfText] = vocab.Count;
        vocab[ClipPreTokenizer.EndOfText] = vocab.Count;
        return new ClipTokenizer(vocab, merges, source);
    }

    public int[] Encode(string text)
    {
        var ids = new List<int>();
        foreach (var piece in ClipPreTokenizer.Split(ClipTextCleaner.Clean(text)))
        {
            int[]? pieceIds;
            lock (_cache) _cache.TryGetValue(piece, out pieceIds);
            if (pieceIds is null)
            {
                pieceIds = EncodePiece(piece);
                lock (_cache)
                {
                    if (_cache.Count >= CacheLimit) _cache.Clear();
                    _cache[piece] = pieceIds;
                }
            }
            ids.AddRange(pieceIds);
        }
        return [.. ids];
    }

    private int[] EncodePiece(string piece)
    {
        if (piece is ClipPreTokenizer.StartOfText) return [StartToken];
        if (piece is ClipPreTokenizer.EndOfText) return [EndToken];
        var bytes = Encoding.UTF8.GetBytes(piece);
        var word = new List<string>(bytes.Length);
        foreach (byte b in bytes) word.Add(ByteUnicode.OfByte[b].ToString());
        word[^1] += WordEnd;
        MergeAll(word);
        var ids = new int[word.Count];
        // A symbol missing from vocab.json cannot come out of a consistent vocab/merges pair; HF maps it to the
        // unknown token, which is <|endoftext|> for CLIP.
        for (int i = 0; i < word.Count; i++) ids[i] = _vocab.TryGetValue(word[i], out int id) ? id : EndToken;
        return ids;
    }

    /// <summary>Repeatedly merges every occurrence of the lowest-ranked adjacent pair until no pair has a rank.</summary>
    private void MergeAll(List<string> word)
    {
        while (word.Count > 1)
        {
            int best = int.MaxValue;
            (string, string) bigram = default;
            for (int i = 0; i + 1 < word.Count; i++)
                if (_ranks.TryGetValue((word[i], word[i + 1]), out int r) && r < best) { best = r; bigram = (word[i], word[i + 1]); }
            if (best == int.MaxValue) return;
            int w = 0;
            for (int i = 0; i < word.Count; i++, w++)
            {
                if (i + 1 < word.Count && word[i] == bigram.Item1 && word[i + 1] == bigram.Item2)
                {
                    word[w] = bigram.Item1 + bigram.Item2;
                    i++;
                }
                else word[w] = word[i];
            }
            word.RemoveRange(w, word.Count - w);
        }
    }

    private int Require(string token) =>
        _vocab.TryGetValue(token, out int id) ? id : throw new LdException($"{Source}: the vocabulary has no '{token}' token. {ClipTokenizerFiles.Hint}");
}
