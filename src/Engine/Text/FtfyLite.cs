using System.Text;
using System.Text.RegularExpressions;

namespace LayerDiffusion.Native.Text;

/// <summary>
/// The parts of ftfy.fix_text (default configuration) that change ordinary prompt text, repeated until nothing
/// changes as ftfy does: HTML entities (only when the text has no "&lt;"), C1 controls read as Windows-1252, Latin
/// ligatures, full-width/half-width forms, curly quotes, terminal escapes and control characters.
/// Not done: mojibake repair (fix_encoding) and NFC, which needs Unicode tables that .NET's invariant
/// globalisation mode leaves out; prompts typed normally are already NFC.
/// </summary>
internal static partial class FtfyLite
{
    [GeneratedRegex(@"\u001b\[((?:\d|;)*)([a-zA-Z])")]
    private static partial Regex TerminalEscape();

    public static string Fix(string text)
    {
        bool unescapeHtml = !text.Contains('<');
        for (int round = 0; round < 16; round++)
        {
            string before = text;
            if (unescapeHtml) text = HtmlUnescape.UnescapeFtfy(text);
            text = MapChars(text);
            text = TerminalEscape().Replace(text, "");
            if (text == before) break;
        }
        return text;
    }

    /// <summary>fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes and remove_control_chars in one pass.</summary>
    private static string MapChars(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? repl = Replacement(text, i, out int width);
            if (repl is null) { sb?.Append(text, i, width); i += width - 1; continue; }
            sb ??= new StringBuilder(text.Length).Append(text, 0, i);
            sb.Append(repl);
            i += width - 1;
        }
        return sb?.ToString() ?? text;
    }

    private static string? Replacement(string text, int i, out int width)
    {
        width = 1;
        char c = text[i];
        if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
        {
            width = 2;
            int cp = char.ConvertToUtf32(c, text[i + 1]);
            return cp is >= 0x1D173 and <= 0x1D17A or >= 0xE0000 and <= 0xE007F ? "" : null;
        }
        switch (c)
        {
            case >= '\u0080' and <= '\u009f': return HtmlUnescape.Cp1252High[c - 0x80].ToString();
            case >= '\u0000' and <= '\u0008' or '\u000b' or >= '\u000e' and <= '\u001f' or '\u007f'
                or >= '\u206a' and <= '\u206f' or '\ufeff' or >= '\ufff9' and <= '\ufffc':
                return "";
            case '\u02bc' or >= '\u2018' and <= '\u201b': return "'";
            case >= '\u201c' and <= '\u201f': return "\"";
            case '\u3000': return " ";
            case >= '\uff01' and <= '\uff5e': return ((char)(c - 0xFEE0)).ToString();
            case '\uffe3': return " \u0304";
            case >= '\uff5f' and <= '\uffef':
                char w = HalfAndFullWidthForms[c - 0xFF5F];
                return w == c ? null : w.ToString();
        }
        return Ligature(c);
    }

    private static string? Ligature(char c) => c switch
    {
        'Ĳ' => "IJ", 'ĳ' => "ij", 'ŉ' => "ʼn", 'Ǆ' => "DŽ", 'ǅ' => "Dž", 'ǆ' => "dž", 'Ǉ' => "LJ", 'ǈ' => "Lj", 'ǉ' => "lj",
        'Ǌ' => "NJ", 'ǋ' => "Nj", 'ǌ' => "nj", 'Ǳ' => "DZ", 'ǲ' => "Dz", 'ǳ' => "dz", 'ﬀ' => "ff", 'ﬁ' => "fi", 'ﬂ' => "fl",
        'ﬃ' => "ffi", 'ﬄ' => "ffl", 'ﬅ' => "ſt", 'ﬆ' => "st",
        _ => null,
    };

    /// <summary>NFKC of U+FF5F..U+FFEF one character at a time (ftfy's width map; generated with Python's unicodedata 14).</summary>
    private const string HalfAndFullWidthForms =
        "\u2985\u2986\u3002\u300c\u300d\u3001\u30fb\u30f2\u30a1\u30a3\u30a5\u30a7\u30a9\u30e3\u30e5\u30e7\u30c3\u30fc\u30a2" +
        "\u30a4\u30a6\u30a8\u30aa\u30ab\u30ad\u30af\u30b1\u30b3\u30b5\u30b7\u30b9\u30bb\u30bd\u30bf\u30c1\u30c4\u30c6\u30c8" +
        "\u30ca\u30cb\u30cc\u30cd\u30ce\u30cf\u30d2\u30d5\u30d8\u30db\u30de\u30df\u30e0\u30e1\u30e2\u30e4\u30e6\u30e8\u30e9" +
        "\u30ea\u30eb\u30ec\u30ed\u30ef\u30f3\u3099\u309a\u1160\u1100\u1101\u11aa\u1102\u11ac\u11ad\u1103\u1104\u1105\u11b0" +
        "\u11b1\u11b2\u11b3\u11b4\u11b5\u111a\u1106\u1107\u1108\u1121\u1109\u110a\u110b\u110c\u110d\u110e\u110f\u1110\u1111" +
        "\u1112\uffbf\uffc0\uffc1\u1161\u1162\u1163\u1164\u1165\u1166\uffc8\uffc9\u1167\u1168\u1169\u116a\u116b\u116c\uffd0" +
        "\uffd1\u116d\u116e\u116f\u1170\u1171\u1172\uffd8\uffd9\u1173\u1174\u1175\uffdd\uffde\uffdf\u00a2\u00a3\u00ac\uffe3" +
        "\u00a6\u00a5\u20a9\uffe7\u2502\u2190\u2191\u2192\u2193\u25a0\u25cb\uffef";
}
