using LayerDiffusion.Native.Text;
using Xunit;

namespace LayerDiffusion.Native.Tests.Text;

public sealed class PromptParserTests
{
    private static void AssertSegments(string prompt, params (string Text, double Weight)[] expected)
    {
        var got = PromptParser.Parse(prompt);
        Assert.Equal(expected.Length, got.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Text, got[i].Text);
            Assert.Equal(expected[i].Weight, got[i].Weight, 1e-9);
        }
    }

    [Fact]
    public void ExplicitWeight() => AssertSegments("a (red:1.3) car", ("a ", 1.0), ("red", 1.3), (" car", 1.0));

    [Fact]
    public void NestingEscapesAndMerging() =>
        AssertSegments(@"((masterpiece)), [blurry], \(literal\)",
            ("masterpiece", 1.21), (", ", 1.0), ("blurry", 1 / 1.1), (", (literal)", 1.0));

    [Fact]
    public void SquareInsideWeighted() =>
        AssertSegments("a (b [c] d:1.5) e", ("a ", 1.0), ("b ", 1.5), ("c", 1.5 / 1.1), (" d", 1.5), (" e", 1.0));

    [Fact]
    public void BreakIsItsOwnSegment()
    {
        AssertSegments("cat BREAK dog", ("cat", 1.0), ("BREAK", -1), ("dog", 1.0));
        Assert.True(PromptParser.Parse("cat BREAK dog")[1].IsBreak);
    }

    [Fact]
    public void BreakTwiceLeavesAnEmptySegmentBetween() =>
        AssertSegments("a BREAK BREAK b", ("a", 1.0), ("BREAK", -1), ("", 1.0), ("BREAK", -1), ("b", 1.0));

    [Fact]
    public void BreakMustBeAWholeWord() => AssertSegments("BREAKfast break", ("BREAKfast break", 1.0));

    [Fact]
    public void UnclosedBracketAppliesToTheEnd() => AssertSegments("(unclosed red car", ("unclosed red car", 1.1));

    [Fact]
    public void UnmatchedClosersAreText() => AssertSegments("a) b] c", ("a) b] c", 1.0));

    [Fact]
    public void WeightWithoutOpenBracketIsText() => AssertSegments("x :3 y", ("x :3 y", 1.0));

    [Fact]
    public void DoubleSquareAndEscapedSquares() =>
        AssertSegments(@"[[low]] (high:0.5) \[x\]", ("low", 1 / 1.21), (" ", 1.0), ("high", 0.5), (@" [x]", 1.0));

    [Fact]
    public void BackslashEscapesAndLoneBackslashVanishes()
    {
        AssertSegments(@"a\\b", (@"a\b", 1.0));
        AssertSegments(@"a\b", ("ab", 1.0));
    }

    [Fact]
    public void EmptyPromptIsOneEmptySegment() => AssertSegments("", ("", 1.0));

    [Fact]
    public void InvalidWeightIsReported() =>
        Assert.Throws<InvalidOptionException>(() => PromptParser.Parse("(a:.)"));
}
