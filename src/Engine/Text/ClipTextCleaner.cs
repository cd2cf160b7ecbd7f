using System.Text;

namespace LayerDiffusion.Native.Text;

/// <summary>
/// The text clean-up CLIP's tokenizer applies before splitting, without ftfy (which the engine does not carry):
/// Unicode NFC (ftfy's default normalisation), every run of whitespace collapsed to one space, trimmed, lower-cased
/// as Python's str.lower() does. HTML entities are left as they are, like Hugging Face's CLIPTokenizer that Forge uses.
/// </summary>
internal static class ClipTextCleaner
{
    public static string Clean(string text)
    {
        if (!text.IsNormalized(NormalizationForm.FormC)) text = text.Normalize(NormalizationForm.FormC);
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
