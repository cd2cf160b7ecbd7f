namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `--name value` / `--flag` parsing against a declared option set. Unknown options and missing values are
/// errors that name the option, so a typo never silently changes a run.
/// </summary>
public sealed class ArgParser
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly List<string> _positional = new();
    private readonly List<(string Name, string Value)> _repeated = new();

    public ArgParser(string command, IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flags)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a == "--")
            {
                _positional.Add(a);
                continue;
            }
            string name = a;
            string? inline = null;
            int eq = a.IndexOf('=');
            if (eq > 0) { name = a[..eq]; inline = a[(eq + 1)..]; }
            if (flags.Contains(name))
            {
                _values[name] = inline ?? "true";
            }
            else if (valueOptions.Contains(name))
            {
                if (inline is null)
                {
                    if (i + 1 >= args.Count) throw new InvalidOptionException(name, "needs a value");
                    inline = args[++i];
                }
                _values[name] = inline;
                _repeated.Add((name, inline));
            }
            else
            {
                var known = valueOptions.Concat(flags).OrderBy(x => x, StringComparer.Ordinal);
                throw new InvalidOptionException(name, $"unknown option for '{command}' (valid: {string.Join(" ", known)})");
            }
        }
    }

    public IReadOnlyList<string> Positional => _positional;

    public bool Has(string name) => _values.ContainsKey(name);
    /// <summary>Every value of a repeatable option, in command-line order (<see cref="Get(string)"/> gives the last).</summary>
    public IReadOnlyList<string> GetAll(string name) => _repeated.Where(r => r.Name == name).Select(r => r.Value).ToList();
    public bool Flag(string name) => _values.TryGetValue(name, out var v) && v != "false";
    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;
    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var s = Get(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v))
            throw new InvalidOptionException(name, $"'{s}' is not an integer");
        if (v < min || v > max) throw new InvalidOptionException(name, $"{v} is out of range [{min}, {max}]");
        return v;
    }

    public long Long(string name, long fallback, long min = long.MinValue, long max = long.MaxValue)
    {
        var s = Get(name);
        if (s is null) return fallback;
        if (!long.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long v))
            throw new InvalidOptionException(name, $"'{s}' is not an integer");
        if (v < min || v > max) throw new InvalidOptionException(name, $"{v} is out of range [{min}, {max}]");
        return v;
    }

    public double Double(string name, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity, bool minExclusive = false)
    {
        var s = Get(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new InvalidOptionException(name, $"'{s}' is not a number");
        if (v > max || v < min || (minExclusive && v == min))
            throw new InvalidOptionException(name, $"{v} is out of range {(minExclusive ? "(" : "[")}{min}, {max}]");
        return v;
    }
}
