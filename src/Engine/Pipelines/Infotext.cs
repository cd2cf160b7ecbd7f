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

    /// <summary>
    /// Forge's <c>infotext_utils.quote</c>: a value holding a comma, colon or newline (or, so it reads back
    /// unchanged, a quote or another control character) becomes a JSON string as <c>json.dumps(ensure_ascii=False)</c>
    /// writes it.
    /// </summary>
    private static string Quote(string v)
    {
        if (!v.Any(c => c is ',' or ':' or '"' || char.IsControl(c))) return v;
        var sb = new StringBuilder("\"");
        foreach (char c in v)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < ' ') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
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
                // A JSON string: find its closing quote (skipping escapes), decode it as Forge's unquote does.
                int end = i + 1;
                while (end < line.Length && line[end] != '"') end += line[end] == '\\' ? 2 : 1;
                end = Math.Min(end, line.Length - 1);
                value = Unquote(line[i..(end + 1)]);
                int comma = line.IndexOf(',', end + 1);
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

    /// <summary>Forge's <c>unquote</c>: a JSON string decoded, or the text unchanged if it is not one.</summary>
    private static string Unquote(string quoted)
    {
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(Encoding.UTF8.GetBytes(quoted));
            return reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.String ? reader.GetString()! : quoted;
        }
        catch (System.Text.Json.JsonException)
        {
            return quoted;
        }
    }

    public static string Number(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
