using LayerDiffusion.Native.Text;
using Xunit;

namespace LayerDiffusion.Native.Tests.Text;

/// <summary>CLIP's basic_clean (ftfy subset + html.unescape twice) and whitespace_clean, seen through the tokenizer.</summary>
public sealed class ClipTextCleaningTests
{
    private static readonly ClipTokenizer Tok = ClipTokenizer.Load(TestPaths.VocabPath);

    [Theory]
    [InlineData("don\u2019t \u201cstop\u201d", "don't \"stop\"")]  // ftfy uncurl_quotes
    [InlineData("\uff23\uff41\uff54\u3000\uff11", "Cat 1")]          // ftfy fix_character_width
    [InlineData("\ufb01sh \ufb02ower", "fish flower")]                // ftfy fix_latin_ligatures
    [InlineData("a\u0000b\ufeffc", "abc")]                            // ftfy remove_control_chars
    [InlineData("cats &amp; dogs", "cats & dogs")]
    [InlineData("fish &amp;amp;amp;amp; chips", "fish & chips")]      // ftfy repeats until stable, then CLIP unescapes twice
    [InlineData("caf&eacute; &#233; &#xE9; &EACUTE;", "café é é É")]
    public void NormalisesLikeClip(string raw, string equivalent) => Assert.Equal(Tok.Encode(equivalent), Tok.Encode(raw));

    [Fact]
    public void HtmlUnescapeFollowsPython()
    {
        Assert.Equal("&", Unescape("&amp"));
        Assert.Equal("&x", Unescape("&ampx"));
        Assert.Equal("¬it;", Unescape("&notit;"));
        Assert.Equal("A A", Unescape("&#65; &#x41"));
        Assert.Equal("€", Unescape("&#128;"));
        Assert.Equal("\ufffd\ufffd", Unescape("&#0;&#xD800;"));
        Assert.Equal("", Unescape("&#1;"));
        Assert.Equal("&bogus; &", Unescape("&bogus; &"));
        Assert.Equal("\ufffd", Unescape("&#99999999999999999999999;"));
    }

    [Fact]
    public void HtmlIsLeftToClipsOwnUnescapeWhenTheTextHasATag()
    {
        // ftfy does not unescape text holding "<"; CLIP's two html.unescape passes still do, once each.
        Assert.Equal("<b> &amp;", ClipTextCleaner.Clean("<B> &amp;amp;amp;"));
        Assert.Equal("fish & chips", ClipTextCleaner.Clean("  Fish &amp;amp;amp;amp;\t chips "));
    }

    private static string Unescape(string s) => HtmlUnescape.Unescape(s);
}
