namespace LayerDiffusion.Native.Text;

/// <summary>
/// Forge's classic text-processing engine (A1111 sd_hijack_clip tokenize_line): each parsed segment tokenised on
/// its own, tokens filling chunks of <see cref="ChunkLength"/>; when a full chunk gets another token and a comma
/// sits within its last <see cref="CommaBacktrack"/> tokens, the chunk ends after that comma and the rest moves on;
/// BREAK closes the chunk. Each chunk is wrapped as [start] + tokens + end padding + [end].
/// </summary>
public sealed class PromptChunker
{
    public PromptChunker(ITokenizer tokenizer, int chunkLength = 75, int commaBacktrack = 20, EmphasisMode emphasis = EmphasisMode.Original)
    {
        if (chunkLength < 1) throw new InvalidOptionException("chunk length", $"{chunkLength} must be at least 1");
        if (commaBacktrack < 0) throw new InvalidOptionException("comma backtrack", $"{commaBacktrack} must not be negative");
        Tokenizer = tokenizer;
        ChunkLength = chunkLength;
        CommaBacktrack = commaBacktrack;
        Emphasis = emphasis;
    }

    public ITokenizer Tokenizer { get; }
    public int ChunkLength { get; }
    public int CommaBacktrack { get; }
    public EmphasisMode Emphasis { get; }

    /// <summary>Ids per chunk including the start and end tokens.</summary>
    public int WindowLength => ChunkLength + 2;

    public PromptChunks Split(string prompt)
    {
        var segments = Emphasis == EmphasisMode.None ? [new PromptSegment(prompt, 1.0)] : PromptParser.Parse(prompt);
        var chunks = new List<PromptChunk>();
        var tokens = new List<int>(ChunkLength);
        var weights = new List<float>(ChunkLength);
        int tokenCount = 0, lastComma = -1;

        void NextChunk(bool isLast)
        {
            // Forge counts a chunk closed early (BREAK, comma backtrack) as a full one.
            tokenCount += isLast ? tokens.Count : ChunkLength;
            var ids = new int[WindowLength];
            var mult = new float[WindowLength];
            ids.AsSpan().Fill(Tokenizer.EndToken);
            mult.AsSpan().Fill(1f);
            ids[0] = Tokenizer.StartToken;
            tokens.CopyTo(ids, 1);
            weights.CopyTo(mult, 1);
            chunks.Add(new PromptChunk(ids, mult));
            tokens.Clear();
            weights.Clear();
            lastComma = -1;
        }

        foreach (var segment in segments)
        {
            if (segment.IsBreak) { NextChunk(isLast: false); continue; }
            float weight = (float)segment.Weight;
            foreach (int token in Tokenizer.Encode(segment.Text))
            {
                if (token == Tokenizer.CommaToken) lastComma = tokens.Count;
                else if (CommaBacktrack != 0 && tokens.Count == ChunkLength && lastComma != -1 && tokens.Count - lastComma <= CommaBacktrack)
                {
                    int cut = lastComma + 1;
                    var movedTokens = tokens.GetRange(cut, tokens.Count - cut);
                    var movedWeights = weights.GetRange(cut, weights.Count - cut);
                    tokens.RemoveRange(cut, tokens.Count - cut);
                    weights.RemoveRange(cut, weights.Count - cut);
                    NextChunk(isLast: false);
                    tokens.AddRange(movedTokens);
                    weights.AddRange(movedWeights);
                }
                if (tokens.Count == ChunkLength) NextChunk(isLast: false);
                tokens.Add(token);
                weights.Add(weight);
            }
        }
        if (tokens.Count > 0 || chunks.Count == 0) NextChunk(isLast: true);
        return new PromptChunks(chunks, tokenCount);
    }
}
