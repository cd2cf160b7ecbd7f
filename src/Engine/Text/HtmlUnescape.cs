using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace LayerDiffusion.Native.Text;

/// <summary>
/// Python's html.unescape, which CLIP's tokenizer applies twice: numeric references with HTML5's rules (the
/// Windows-1252 remapping of 0x80-0x9F, U+FFFD for surrogates and out-of-range values, nothing for other invalid
/// code points), named references with or without ";" for the legacy names, and the longest legacy name that
/// prefixes an unknown one ("&amp;ampx" → "&amp;x"). Named entities are looked up in .NET's HTML 4 table (which
/// covers everything a prompt plausibly holds; HTML5-only names such as "&amp;check;" stay as they are).
/// </summary>
internal static partial class HtmlUnescape
{
    [GeneratedRegex(@"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")]
    private static partial Regex CharRef();

    /// <summary>HTML5 names that also decode without a semicolon (the HTML 4 Latin-1 set plus AMP, LT, GT, QUOT, COPY, REG).</summary>
    private static readonly HashSet<string> LegacyNames = new(StringComparer.Ordinal)
    {
        "AElig", "AMP", "Aacute", "Acirc", "Agrave", "Aring", "Atilde", "Auml", "COPY", "Ccedil", "ETH", "Eacute", "Ecirc",
        "Egrave", "Euml", "GT", "Iacute", "Icirc", "Igrave", "Iuml", "LT", "Ntilde", "Oacute", "Ocirc", "Ograve", "Oslash",
        "Otilde", "Ouml", "QUOT", "REG", "THORN", "Uacute", "Ucirc", "Ugrave", "Uuml", "Yacute", "aacute", "acirc", "acute",
        "aelig", "agrave", "amp", "aring", "atilde", "auml", "brvbar", "ccedil", "cedil", "cent", "copy", "curren", "deg",
        "divide", "eacute", "ecirc", "egrave", "eth", "euml", "frac12", "frac14", "frac34", "gt", "iacute", "icirc", "iexcl",
        "igrave", "iquest", "iuml", "laquo", "lt", "macr", "micro", "middot", "nbsp", "not", "ntilde", "oacute", "ocirc",
        "ograve", "ordf", "ordm", "oslash", "otilde", "ouml", "para", "plusmn", "pound", "quot", "raquo", "reg", "sect",
        "shy", "sup1", "sup2", "sup3", "szlig", "thorn", "times", "uacute", "ucirc", "ugrave", "uml", "uuml", "yacute",
        "yen", "yuml",
    };

    private static readonly Dictionary<string, string> UpperCaseNames = new(StringComparer.Ordinal)
    {
        ["AMP"] = "&", ["LT"] = "<", ["GT"] = ">", ["QUOT"] = "\"", ["COPY"] = "©", ["REG"] = "®",
    };

    /// <summary>Windows-1252's characters for 0x80-0x9F (the five undefined bytes stay themselves).</summary>
    internal const string Cp1252High =
        "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
        "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

    public static string Unescape(string s) => s.Contains('&') ? CharRef().Replace(s, m => Replace(m.Groups[1].Value)) : s;

    private static string Replace(string s)
    {
        if (s[0] == '#')
        {
            bool hex = s[1] is 'x' or 'X';
            var digits = s.AsSpan(hex ? 2 : 1).TrimEnd(';');
            bool ok = hex
                ? long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long num)
                : long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out num);
            if (!ok) num = long.MaxValue; // more digits than a long holds: out of range like any value > 0x10FFFF
            return NumericReference(num);
        }
        if (Named(s) is { } value) return value;
        for (int x = s.Length - 1; x > 1; x--)
            if (Named(s[..x]) is { } prefix) return prefix + s[x..];
        return "&" + s;
    }

    private static string NumericReference(long num)
    {
        if (num == 0) return "\ufffd";
        if (num == 0x0d) return "\r";
        if (num is >= 0x80 and <= 0x9f) return Cp1252High[(int)num - 0x80].ToString();
        if (num is >= 0xD800 and <= 0xDFFF || num > 0x10FFFF) return "\ufffd";
        if (num is >= 0x1 and <= 0x8 or >= 0xe and <= 0x1f or >= 0x7f and <= 0x9f or >= 0xfdd0 and <= 0xfdef or 0xb
            || (num & 0xFFFE) == 0xFFFE)
            return "";
        return char.ConvertFromUtf32((int)num);
    }

    /// <summary>The value of a name as html5's table holds it: "amp;" always, "amp" only for legacy names.</summary>
    private static string? Named(string name)
    {
        bool semicolon = name.EndsWith(';');
        string bare = semicolon ? name[..^1] : name;
        if (bare.Length == 0 || (!semicolon && !LegacyNames.Contains(bare))) return null;
        if (UpperCaseNames.TryGetValue(bare, out var upper)) return upper;
        string entity = "&" + bare + ";";
        string decoded = WebUtility.HtmlDecode(entity);
        return decoded == entity ? null : decoded;
    }

    /// <summary>ftfy's unescape_html step: only "&amp;name;" / "&amp;#123;" forms, plus upper-cased lower-case names ("&amp;EACUTE;" → "É").</summary>
    public static string UnescapeFtfy(string s)
    {
        if (!s.Contains('&')) return s;
        var sb = new StringBuilder(s.Length);
        int i = 0;
        foreach (Match m in FtfyEntity().Matches(s))
        {
            sb.Append(s, i, m.Index - i);
            sb.Append(FtfyFixup(m.Value));
            i = m.Index + m.Length;
        }
        return sb.Append(s, i, s.Length - i).ToString();
    }

    [GeneratedRegex(@"&#?[0-9A-Za-z]{1,24};")]
    private static partial Regex FtfyEntity();

    private static string FtfyFixup(string text)
    {
        string name = text[1..];
        if (!name.StartsWith('#'))
        {
            if (Named(name) is { } v) return v;
            string bare = name[..^1];
            if (bare == bare.ToUpperInvariant() && Named(bare.ToLowerInvariant() + ";") is { } lower && bare.ToLowerInvariant() != bare)
                return lower.ToUpperInvariant();
            return text;
        }
        string unescaped = Unescape(text);
        return unescaped.Contains(';') ? text : unescaped;
    }
}
