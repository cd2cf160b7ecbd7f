using System.Globalization;
using System.Text;

namespace LayerDiffusion.Native.Text;

/// <summary>
/// CLIP's pre-tokenisation regex, written out as a scanner over Unicode code points so letters outside the BMP
/// count as letters (a .NET regex sees their surrogates instead):
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>.
/// Alternatives are tried in that order at each position, as Python's regex.findall does; whitespace between
/// matches is skipped.
/// </summary>
internal static class ClipPreTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    private enum Kind { Space, Letter, Number, Other }

    /// <summary>The pieces of already-cleaned (lower-cased) text.</summary>
    public static List<string> Split(string text)
    {
        var pieces = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            var kind = KindAt(text, i, out int width);
            if (kind == Kind.Space) { i += width; continue; }
            int end = MatchAt(text, i, kind, width);
            pieces.Add(text[i..end]);
            i = end;
        }
        return pieces;
    }

    private static int MatchAt(string text, int start, Kind kind, int width)
    {
        foreach (var special in (ReadOnlySpan<string>)[StartOfText, EndOfText])
            if (string.CompareOrdinal(text, start, special, 0, special.Length) == 0) return start + special.Length;
        if (text[start] == '\'')
            foreach (var c in Contractions)
                if (string.CompareOrdinal(text, start, c, 0, c.Length) == 0) return start + c.Length;
        if (kind == Kind.Number) return start + width;
        // A letter run or a run of "other" characters, greedy and without backtracking.
        int i = start + width;
        while (i < text.Length && KindAt(text, i, out int w) == kind) i += w;
        return i;
    }

    private static Kind KindAt(string text, int index, out int width)
    {
        if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out width) != System.Buffers.OperationStatus.Done)
        {
            width = 1;
            return Kind.Other; // a lone surrogate: neither letter, number nor space
        }
        if (Rune.IsWhiteSpace(rune)) return Kind.Space;
        switch (Rune.GetUnicodeCategory(rune))
        {
            case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter:
                return Kind.Letter;
            case UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber:
                return Kind.Number;
            default:
                return Kind.Other;
        }
    }
}
