using System.Globalization;
using System.Text;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// A1111's "parameters" text: the prompt, a `Negative prompt:` line, then one line of `Key: value` pairs separated
/// by ", " (values holding a comma, colon or quote are JSON-quoted). Forge's PNG Info reads it back.
/// </summary>
public static class Infotext
{
    public static string Format(string prompt, string negative, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var sb = new StringBuilder();
        sb.Append(prompt);
        sb.Append('\n');
        if (negative.Length > 0) sb.Append("Negative prompt: ").Append(negative).Append('\n');
        sb.Append(string.Join(", ", parameters.Select(kv => $"{kv.Key}: {Quote(kv.Value)}")));
        return sb.ToString();
    }

    private static string Quote(string v)
    {
        if (v.IndexOfAny([',', ':', '"', '\n']) < 0) return v;
        var sb = new StringBuilder("\"");
        foreach (char c in v)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Parses infotext back into prompt, negative prompt and parameters (A1111's parse_generation_parameters).</summary>
    public static (string Prompt, string Negative, Dictionary<string, string> Parameters) Parse(string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n').ToList();
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        string last = lines.Count > 0 ? lines[^1] : "";
        if (lines.Count > 0 && ParsePairs(last) is { Count: >= 3 } pairs)
        {
            foreach (var (k, v) in pairs) parameters[k] = v;
            lines.RemoveAt(lines.Count - 1);
        }
        var prompt = new StringBuilder();
        var negative = new StringBuilder();
        bool inNegative = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("Negative prompt:", StringComparison.Ordinal))
            {
                inNegative = true;
                negative.Append(line["Negative prompt:".Length..].TrimStart());
                continue;
            }
            var target = inNegative ? negative : prompt;
            if (target.Length > 0) target.Append('\n');
            target.Append(line);
        }
        return (prompt.ToString(), negative.ToString(), parameters);
    }

    private static List<(string, string)> ParsePairs(string line)
    {
        var result = new List<(string, string)>();
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == ' ') i++;
            int colon = line.IndexOf(':', i);
            if (colon < 0) break;
            string key = line[i..colon].Trim();
            i = colon + 1;
            while (i < line.Length && line[i] == ' ') i++;
            string value;
            if (i < line.Length && line[i] == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (i < line.Length && line[i] != '"')
                {
                    if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        sb.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else sb.Append(line[i]);
                    i++;
                }
                i++;
                value = sb.ToString();
                int comma = line.IndexOf(',', Math.Min(i, line.Length));
                i = comma < 0 ? line.Length : comma + 1;
            }
            else
            {
                int comma = line.IndexOf(", ", i, StringComparison.Ordinal);
                int end = comma < 0 ? line.Length : comma;
                value = line[i..end];
                i = comma < 0 ? line.Length : comma + 2;
            }
            if (key.Length == 0 || key.Contains(',')) return [];
            result.Add((key, value));
        }
        return result;
    }

    public static string Number(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
