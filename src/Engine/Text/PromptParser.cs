using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LayerDiffusion.Native.Text;

/// <summary>
/// A1111/Forge parse_prompt_attention, step for step: "(x)" multiplies by 1.1, "[x]" by 1/1.1, "(x:1.3)" by 1.3,
/// nesting multiplies; "\(", "\)", "\[", "\]", "\\" are literals (a lone "\" vanishes); a ")" or "]" with nothing
/// open is text; brackets left open apply their factor to the end; "BREAK" (a whole word) becomes the marker
/// segment; adjacent segments of equal weight are merged; an empty prompt gives one empty segment of weight 1.
/// </summary>
public static partial class PromptParser
{
    public const double RoundBracketMultiplier = 1.1;
    public const double SquareBracketMultiplier = 1 / 1.1;

    [GeneratedRegex(@"\\\(|\\\)|\\\[|\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()\[\]:]+|:")]
    private static partial Regex Attention();

    [GeneratedRegex(@"\s*\bBREAK\b\s*", RegexOptions.Singleline)]
    private static partial Regex Break();

    public static List<PromptSegment> Parse(string text)
    {
        var res = new List<(string Text, double Weight)>();
        var round = new Stack<int>();
        var square = new Stack<int>();

        void MultiplyRange(int start, double multiplier)
        {
            for (int p = start; p < res.Count; p++) res[p] = (res[p].Text, res[p].Weight * multiplier);
        }

        foreach (Match m in Attention().Matches(text))
        {
            string t = m.Value;
            var weight = m.Groups[1];
            if (t.StartsWith('\\')) res.Add((t[1..], 1.0));
            else if (t == "(") round.Push(res.Count);
            else if (t == "[") square.Push(res.Count);
            else if (weight.Success && round.Count > 0) MultiplyRange(round.Pop(), ParseWeight(weight.Value, t));
            else if (t == ")" && round.Count > 0) MultiplyRange(round.Pop(), RoundBracketMultiplier);
            else if (t == "]" && square.Count > 0) MultiplyRange(square.Pop(), SquareBracketMultiplier);
            else
            {
                var parts = Break().Split(t);
                for (int i = 0; i < parts.Length; i++)
                {
                    if (i > 0) res.Add((PromptSegment.Break.Text, PromptSegment.Break.Weight));
                    res.Add((parts[i], 1.0));
                }
            }
        }
        // Python iterates the lists from the oldest open bracket; the stacks pop newest first, so reverse.
        foreach (int pos in round.Reverse()) MultiplyRange(pos, RoundBracketMultiplier);
        foreach (int pos in square.Reverse()) MultiplyRange(pos, SquareBracketMultiplier);

        if (res.Count == 0) res.Add(("", 1.0));
        var merged = new List<PromptSegment>(res.Count);
        var sb = new StringBuilder();
        for (int i = 0; i < res.Count;)
        {
            sb.Clear().Append(res[i].Text);
            int j = i + 1;
            while (j < res.Count && res[j].Weight == res[i].Weight) sb.Append(res[j++].Text);
            merged.Add(new PromptSegment(sb.ToString(), res[i].Weight));
            i = j;
        }
        return merged;
    }

    /// <summary>Python's float() of the "[+-]?[.\d]+" capture; digits may be any Unicode decimal digit.</summary>
    private static double ParseWeight(string s, string match)
    {
        var ascii = new StringBuilder(s.Length);
        foreach (char c in s) ascii.Append(char.IsDigit(c) ? (char)('0' + (int)char.GetNumericValue(c)) : c);
        if (double.TryParse(ascii.ToString(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double w))
            return w;
        throw new InvalidOptionException("prompt", $"'{match}' has an invalid attention weight '{s}'");
    }
}
