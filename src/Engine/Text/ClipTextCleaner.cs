using System.Text;

namespace LayerDiffusion.Native.Text;

/// <summary>
/// CLIP's text clean-up before splitting (simple_tokenizer.py basic_clean + whitespace_clean): ftfy.fix_text
/// (the subset in <see cref="FtfyLite"/>), html.unescape twice, every run of whitespace collapsed to one space,
/// trimmed, lower-cased as Python's str.lower() does.
/// </summary>
internal static class ClipTextCleaner
{
    public static string Clean(string text)
    {
        text = HtmlUnescape.Unescape(HtmlUnescape.Unescape(FtfyLite.Fix(text)));
        var sb = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }
            if (pendingSpace) { sb.Append(' '); pendingSpace = false; }
            AppendLower(sb, rune);
        }
        return sb.ToString();
    }

    private static void AppendLower(StringBuilder sb, Rune rune)
    {
        // Python lower-cases U+0130 (capital I with dot) to "i" + combining dot above; .NET's simple mapping drops the dot.
        if (rune.Value == 0x130) { sb.Append("i\u0307"); return; }
        sb.Append(Rune.ToLowerInvariant(rune).ToString());
    }
}
