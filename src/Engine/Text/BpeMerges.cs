namespace LayerDiffusion.Native.Text;

/// <summary>
/// Reads and checks the merge list of a CLIP byte-level BPE vocabulary. A damaged file (cut short, garbage lines, an
/// edited pair) would otherwise load and silently tokenize prompts differently, so every line is checked: two
/// symbols, each one CLIP can have made by then (a byte symbol, optionally word-final, or an earlier merge's result;
/// with a vocab.json, tokens of that vocabulary), and the count CLIP reads.
/// </summary>
internal static class BpeMerges
{
    /// <summary>
    /// Merge pairs in rank order: the "#version" header skipped, blank lines ignored, at most
    /// <see cref="ClipTokenizer.MaxMerges"/> read (CLIP and HF both stop there).
    /// </summary>
    /// <param name="vocab">
    /// Hugging Face layout: vocab.json, which must hold both sides and the result of every merge. Null for CLIP's
    /// merges-only file, whose vocabulary is built from the merges and needs all <see cref="ClipTokenizer.MaxMerges"/>.
    /// </param>
    public static List<(string, string)> Parse(IEnumerable<string> lines, string source, IReadOnlyDictionary<string, int>? vocab = null)
    {
        var merges = new List<(string, string)>(ClipTokenizer.MaxMerges);
        var made = vocab is null ? BaseSymbols() : null;
        bool first = true;
        int lineNo = 0;
        foreach (var line in lines)
        {
            lineNo++;
            string raw = line.TrimEnd('\r');
            if (first)
            {
                first = false;
                if (raw.Contains("#version", StringComparison.Ordinal) || raw.StartsWith('#')) continue;
            }
            if (string.IsNullOrWhiteSpace(raw)) continue;
            if (merges.Count == ClipTokenizer.MaxMerges) break;
            var parts = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2) throw Bad(source, lineNo, raw, $"is not a merge pair (two symbols separated by a space)");
            var (left, right) = (parts[0], parts[1]);
            foreach (var side in parts)
            {
                bool known = made?.Contains(side) ?? vocab!.ContainsKey(side);
                if (!known)
                    throw Bad(source, lineNo, raw, vocab is null
                        ? $"merges '{side}', which is neither a byte symbol nor the result of an earlier merge"
                        : $"merges '{side}', which is not in vocab.json");
            }
            if (vocab is not null && !vocab.ContainsKey(left + right))
                throw Bad(source, lineNo, raw, $"makes '{left + right}', which is not in vocab.json");
            made?.Add(left + right);
            merges.Add((left, right));
        }
        if (merges.Count == 0) throw new LdException($"{source}: holds no merges. {ClipTokenizerFiles.Hint}") { Kind = ErrorKind.ModelFile };
        if (vocab is null && merges.Count < ClipTokenizer.MaxMerges)
            throw new LdException($"{source}: holds {merges.Count} merges, but CLIP's vocabulary is built from the first {ClipTokenizer.MaxMerges} " +
                $"({ClipTokenizer.MaxMerges + 2 * 256 + 2} tokens): the file is cut short or is not CLIP's. {ClipTokenizerFiles.Hint}") { Kind = ErrorKind.ModelFile };
        return merges;
    }

    /// <summary>
    /// vocab.json against its merges: ids unique, and every token a special, a byte symbol (optionally word-final)
    /// or the result of a merge (a cut-short merges.txt leaves tokens no merge makes).
    /// </summary>
    public static void CheckVocabulary(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string vocabPath, string mergesPath)
    {
        var ids = new Dictionary<int, string>();
        foreach (var (token, id) in vocab)
            if (!ids.TryAdd(id, token))
                throw new LdException($"{vocabPath}: tokens '{ids[id]}' and '{token}' share id {id}. {ClipTokenizerFiles.Hint}") { Kind = ErrorKind.ModelFile };
        var results = new HashSet<string>(merges.Select(m => m.Left + m.Right), StringComparer.Ordinal);
        var baseSymbols = BaseSymbols();
        foreach (var (token, id) in vocab.OrderBy(kv => kv.Value))
        {
            if (token is ClipPreTokenizer.StartOfText or ClipPreTokenizer.EndOfText || baseSymbols.Contains(token) || results.Contains(token)) continue;
            throw new LdException($"{vocabPath}: token '{token}' (id {id}) is made by no merge of {mergesPath} " +
                $"({merges.Count} merges read): the merges file is cut short or belongs to another vocabulary. {ClipTokenizerFiles.Hint}") { Kind = ErrorKind.ModelFile };
        }
    }

    /// <summary>The 256 byte symbols and their word-final forms.</summary>
    private static HashSet<string> BaseSymbols()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (char c in ByteUnicode.Symbols)
        {
            set.Add(c.ToString());
            set.Add(c + ClipTokenizer.WordEnd);
        }
        return set;
    }

    private static LdException Bad(string source, int line, string raw, string what) =>
        new($"{source}: line {line} ('{(raw.Length > 60 ? raw[..60] + "..." : raw)}') {what}. {ClipTokenizerFiles.Hint}");
}
