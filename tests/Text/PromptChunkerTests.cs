using LayerDiffusion.Native.Text;
using Xunit;

namespace LayerDiffusion.Native.Tests.Text;

public sealed class PromptChunkerTests
{
    private static readonly FakeWordTokenizer Tok = new();
    private static readonly PromptChunker Chunker = new(Tok);

    private static int Content(PromptChunk c, ITokenizer t) => Array.IndexOf(c.Tokens, t.EndToken) - 1;

    [Fact]
    public void EveryChunkIsWrappedAndPaddedWithTheEndToken()
    {
        var chunks = Chunker.Split("a b c");
        var c = Assert.Single(chunks.Chunks);
        Assert.Equal(77, c.Tokens.Length);
        Assert.Equal(Tok.StartToken, c.Tokens[0]);
        Assert.All(c.Tokens[4..], id => Assert.Equal(Tok.EndToken, id));
        Assert.All(c.Multipliers, m => Assert.Equal(1f, m));
        Assert.Equal(3, chunks.TokenCount);
    }

    [Fact]
    public void EmptyPromptStillGivesOneChunk()
    {
        var chunks = Chunker.Split("");
        var c = Assert.Single(chunks.Chunks);
        Assert.Equal(Tok.StartToken, c.Tokens[0]);
        Assert.All(c.Tokens[1..], id => Assert.Equal(Tok.EndToken, id));
        Assert.Equal(0, chunks.TokenCount);
    }

    [Fact]
    public void SeventySixTokensSpillIntoASecondChunk()
    {
        var chunks = Chunker.Split(FakeWordTokenizer.Words(76));
        Assert.Equal(2, chunks.Count);
        Assert.Equal(75, Content(chunks.Chunks[0], Tok));
        Assert.Equal(Tok.EndToken, chunks.Chunks[0].Tokens[76]);
        Assert.Equal(1, Content(chunks.Chunks[1], Tok));
        Assert.Equal(76, chunks.TokenCount);
    }

    [Fact]
    public void FullChunkBreaksAfterACommaWithinTheLast20Tokens()
    {
        // 70 words, a comma at index 70, then 10 more: the 76th token finds the chunk full with a comma 5 back.
        var chunks = Chunker.Split(FakeWordTokenizer.Words(70) + ", " + FakeWordTokenizer.Words(10, "x"));
        Assert.Equal(2, chunks.Count);
        Assert.Equal(71, Content(chunks.Chunks[0], Tok));
        Assert.Equal(FakeWordTokenizer.Comma, chunks.Chunks[0].Tokens[71]);
        Assert.Equal(10, Content(chunks.Chunks[1], Tok));
        Assert.Equal(Tok.Encode("x0")[0], chunks.Chunks[1].Tokens[1]);
        Assert.Equal(75 + 10, chunks.TokenCount); // Forge counts the cut chunk as a full 75
    }

    [Fact]
    public void CommaFurtherBackThan20TokensIsIgnored()
    {
        var chunks = Chunker.Split(FakeWordTokenizer.Words(10) + ", " + FakeWordTokenizer.Words(70, "x"));
        Assert.Equal(2, chunks.Count);
        Assert.Equal(75, Content(chunks.Chunks[0], Tok));
        Assert.Equal(6, Content(chunks.Chunks[1], Tok));
    }

    [Fact]
    public void ZeroBacktrackDisablesTheCommaRule()
    {
        var chunks = new PromptChunker(Tok, commaBacktrack: 0).Split(FakeWordTokenizer.Words(70) + ", " + FakeWordTokenizer.Words(10, "x"));
        Assert.Equal(75, Content(chunks.Chunks[0], Tok));
    }

    [Fact]
    public void BreakClosesTheChunk()
    {
        var chunks = Chunker.Split("a b BREAK c");
        Assert.Equal(2, chunks.Count);
        Assert.Equal(2, Content(chunks.Chunks[0], Tok));
        Assert.Equal(1, Content(chunks.Chunks[1], Tok));
        Assert.Equal(76, chunks.TokenCount);
    }

    [Fact]
    public void EmphasisNoneDoesNotParseBreakOrBrackets()
    {
        var chunks = new PromptChunker(Tok, emphasis: EmphasisMode.None).Split("(a:1.5) BREAK b");
        var c = Assert.Single(chunks.Chunks);
        Assert.All(c.Multipliers, m => Assert.Equal(1f, m));
    }

    [Fact]
    public void EachTokenCarriesItsSegmentWeight()
    {
        var c = Chunker.Split("(a b:1.5) c [d]").Chunks[0];
        Assert.Equal([1f, 1.5f, 1.5f, 1f, (float)(1 / 1.1), 1f], c.Multipliers[..6]);
    }

    [Fact]
    public void OpenClipIdsArePaddedWithZeroAfterTheFirstEnd()
    {
        var c = Chunker.Split("a b").Chunks[0];
        var g = c.PaddedAfterEnd(Tok.EndToken, 0);
        Assert.Equal(c.Tokens[..4], g[..4]);
        Assert.Equal(Tok.EndToken, g[3]);
        Assert.All(g[4..], id => Assert.Equal(0, id));
    }

    [Fact]
    public void RealVocabularyTokenizesEachSegmentSeparately()
    {
        var tok = ClipTokenizer.Load(TestPaths.VocabPath);
        var c = new PromptChunker(tok).Split("a (red:1.3) car").Chunks[0];
        int[] expected = [tok.StartToken, .. tok.Encode("a "), .. tok.Encode("red"), .. tok.Encode(" car"), tok.EndToken];
        Assert.Equal(expected, c.Tokens[..5]);
        Assert.Equal([1f, 1f, 1.3f, 1f, 1f], c.Multipliers[..5]);
    }
}
