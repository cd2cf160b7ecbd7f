using System.Globalization;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// What a measurement was taken at, as fields (bench JSON v1 "params"): null where a field does not apply to the
/// component. The shape text of the old format ("b2 h10 q4096 k4096 d64", "b1 1024x1024 20 steps attn") is rendered
/// from these fields, and old files are read back into them (<see cref="ParseShapeText"/>), so `--reference` matches
/// records field by field whichever format each side was written in. <see cref="OpClass"/> is for per-op-class
/// records (a cost ledger: "conv", "attention_self", ...); null for whole components.
/// </summary>
public sealed record BenchParams
{
    public int? Batch { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public int? Heads { get; init; }
    public int? Queries { get; init; }
    public int? Keys { get; init; }
    public int? HeadWidth { get; init; }
    public int? Tokens { get; init; }
    public int? Steps { get; init; }
    public string? Method { get; init; }
    /// <summary>Float parameters (model load, patch merge).</summary>
    public long? Parameters { get; init; }
    /// <summary>Tensors a patch merge touches.</summary>
    public int? Tensors { get; init; }
    public string? OpClass { get; init; }

    public static BenchParams Image(int batch, int width, int height) => new() { Batch = batch, Width = width, Height = height };

    /// <summary>
    /// Field-by-field equality, except that parameter counts compare at 0.1M, the precision of the old shape text
    /// ("6.4M params"), so a file of either format matches.
    /// </summary>
    public bool Matches(BenchParams other) =>
        this with { Parameters = Rounded(Parameters) } == other with { Parameters = Rounded(other.Parameters) };

    private static long? Rounded(long? parameters) => parameters is { } p ? (long)Math.Round(p / 1e5) : null;

    /// <summary>The human label of the old format, e.g. "b2 h10 q4096 k4096 d64", "b1 128x128 20 steps attn", "88 tensors, 0.1M params".</summary>
    public string ToShapeText()
    {
        var parts = new List<string>();
        void Add(string? s) { if (s is not null) parts.Add(s); }
        var inv = CultureInfo.InvariantCulture;
        Add(Batch is { } b ? $"b{b}" : null);
        Add(Heads is { } h ? $"h{h}" : null);
        Add(Queries is { } q ? $"q{q}" : null);
        Add(Keys is { } k ? $"k{k}" : null);
        Add(HeadWidth is { } d ? $"d{d}" : null);
        Add(Width is { } w && Height is { } ht ? $"{w}x{ht}" : null);
        Add(Tokens is { } t ? $"{t} tokens" : null);
        Add(Steps is { } s ? $"{s} steps" : null);
        Add(Method);
        Add(Tensors is { } n ? (Parameters is null ? $"{n} tensors" : $"{n} tensors,") : null);
        Add(Parameters is { } p ? string.Create(inv, $"{p / 1e6:F1}M params") : null);
        Add(OpClass);
        return string.Join(' ', parts);
    }

    public override string ToString() => ToShapeText();

    /// <summary>
    /// The fields of an old-format shape text (our records before v1 and perf/torch_reference.py's), or null when the
    /// text is not in that grammar (such a record then matches by its text alone).
    /// </summary>
    public static BenchParams? ParseShapeText(string text)
    {
        var p = new BenchParams();
        var tokens = text.Replace(",", " ,", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < tokens.Length; i++)
        {
            string t = tokens[i];
            string? next = i + 1 < tokens.Length ? tokens[i + 1] : null;
            if (t == ",") continue;
            if (next is "tokens" or "steps" or "tensors" or "params")
            {
                i++;
                if (next == "params")
                {
                    if (!t.EndsWith('M') || !double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double m)) return null;
                    p = p with { Parameters = (long)Math.Round(m * 1e6) };
                    continue;
                }
                if (!int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return null;
                p = next switch
                {
                    "tokens" => p with { Tokens = n },
                    "steps" => p with { Steps = n },
                    _ => p with { Tensors = n },
                };
                continue;
            }
            int x = t.IndexOf('x');
            if (x > 0 && Int(t[..x]) is { } w && Int(t[(x + 1)..]) is { } h)
            {
                p = p with { Width = w, Height = h };
                continue;
            }
            if (t.Length > 1 && Int(t[1..]) is { } v)
            {
                switch (t[0])
                {
                    case 'b': p = p with { Batch = v }; continue;
                    case 'h': p = p with { Heads = v }; continue;
                    case 'q': p = p with { Queries = v }; continue;
                    case 'k': p = p with { Keys = v }; continue;
                    case 'd': p = p with { HeadWidth = v }; continue;
                }
            }
            // A trailing word is the generation's layer method ("attn", "conv", "fg2ble" ...).
            if (i == tokens.Length - 1 && p.Steps is not null && t.All(char.IsAsciiLetterOrDigit)) { p = p with { Method = t }; continue; }
            return null;
        }
        return p;
    }

    private static int? Int(string s) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : null;
}
