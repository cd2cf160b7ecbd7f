using System.Globalization;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `--name value`, `--name=value`, `-x value` and `--flag` parsing against the options <see cref="CliOptions"/>
/// declares for the command. Unknown options and missing values are usage errors that name the option and suggest
/// the nearest declared one, so a typo never silently changes a run. Numeric ranges and defaults come from the
/// declaration unless a call gives its own.
/// </summary>
public sealed class ArgParser
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly List<string> _positional = new();
    private readonly Dictionary<string, OptionSpec> _options = new(StringComparer.Ordinal);
    private readonly List<(string Name, string Value)> _repeated = new();

    public ArgParser(string command, IReadOnlyList<string> args)
    {
        Command = command;
        Args = args;
        foreach (var o in CliOptions.For(command))
        {
            _options[o.Name] = o;
            if (o.Short is not null) _options[o.Short] = o;
        }
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--")
            {
                _positional.AddRange(args.Skip(i + 1));
                break;
            }
            if (!a.StartsWith('-') || a == "-" || IsNumber(a))
            {
                _positional.Add(a);
                continue;
            }
            string name = a;
            string? inline = null;
            int eq = a.IndexOf('=');
            if (eq > 0) { name = a[..eq]; inline = a[(eq + 1)..]; }
            if (!_options.TryGetValue(name, out var spec)) throw Unknown(name);
            if (!spec.IsFlag && inline is null)
            {
                if (i + 1 >= args.Count) throw new InvalidOptionException(spec.Name, $"needs a value ({spec.Value})");
                inline = args[++i];
            }
            _values[spec.Name] = inline ?? "true";
            if (!spec.IsFlag) _repeated.Add((spec.Name, inline!));
        }
    }

    public string Command { get; }

    /// <summary>The arguments as given (after the command name).</summary>
    public IReadOnlyList<string> Args { get; }

    public IReadOnlyList<string> Positional => _positional;

    /// <summary>The options given, under their long names, with their values ("true" for a flag), in name order.</summary>
    public IEnumerable<(OptionSpec Option, string Value)> Given =>
        _values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (_options[kv.Key], kv.Value!));

    /// <summary>--quiet: results and errors only. --verbose: more on stderr.</summary>
    public bool Quiet => Flag("--quiet");
    public bool Verbose => Flag("--verbose") && !Quiet;

    public bool Has(string name) => _values.ContainsKey(name);
    /// <summary>Every value of a repeatable option, in command-line order (<see cref="Get(string)"/> gives the last).</summary>
    public IReadOnlyList<string> GetAll(string name) => _repeated.Where(r => r.Name == name).Select(r => r.Value).ToList();
    public bool Flag(string name) => _values.TryGetValue(name, out var v) && v != "false";
    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;
    public string Get(string name, string fallback) => Get(name) ?? fallback;

    /// <summary>The value given, else the declared default (the --demo one with --demo).</summary>
    public string Value(string name) => Get(name) ?? DeclaredDefault(name);

    public int Int(string name) => Int(name, int.Parse(DeclaredDefault(name), CultureInfo.InvariantCulture));
    public long Long(string name) => Long(name, long.Parse(DeclaredDefault(name), CultureInfo.InvariantCulture));
    public double Double(string name) => Double(name, double.Parse(DeclaredDefault(name), CultureInfo.InvariantCulture));

    public int Int(string name, int fallback, int? min = null, int? max = null)
    {
        long lo = min ?? (long)Math.Max(Spec(name)?.Min ?? int.MinValue, int.MinValue);
        long hi = max ?? (long)Math.Min(Spec(name)?.Max ?? int.MaxValue, int.MaxValue);
        return (int)Long(name, fallback, lo, hi);
    }

    public long Long(string name, long fallback, long? min = null, long? max = null)
    {
        var s = Get(name);
        if (s is null) return fallback;
        long lo = min ?? (Spec(name)?.Min is { } a ? (long)a : long.MinValue);
        long hi = max ?? (Spec(name)?.Max is { } b ? (b >= long.MaxValue ? long.MaxValue : (long)b) : long.MaxValue);
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
            throw new InvalidOptionException(name, $"'{s}' is not an integer");
        if (v < lo || v > hi) throw new InvalidOptionException(name, $"{v} is out of range [{lo}, {hi}]");
        return v;
    }

    public double Double(string name, double fallback, double? min = null, double? max = null, bool? minExclusive = null)
    {
        var s = Get(name);
        if (s is null) return fallback;
        double lo = min ?? Spec(name)?.Min ?? double.NegativeInfinity, hi = max ?? Spec(name)?.Max ?? double.PositiveInfinity;
        bool exclusive = minExclusive ?? Spec(name)?.MinExclusive ?? false;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new InvalidOptionException(name, $"'{s}' is not a number");
        if (v > hi || v < lo || (exclusive && v == lo))
            throw new InvalidOptionException(name, $"{v} is out of range {(exclusive ? "(" : "[")}{lo}, {hi}]");
        return v;
    }

    private OptionSpec? Spec(string name) => _options.GetValueOrDefault(name);

    private string DeclaredDefault(string name)
    {
        var spec = Spec(name) ?? throw new InvalidOperationException($"{name} is not declared for '{Command}' in CliOptions");
        return (Flag("--demo") ? spec.DemoDefault : null) ?? spec.Default
            ?? throw new InvalidOperationException($"{name} has no declared default for '{Command}'");
    }

    private static bool IsNumber(string a) => double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>An option this command does not take: the nearest name it does take, or the commands that take it.</summary>
    private InvalidOptionException Unknown(string name)
    {
        var longNames = _options.Values.Select(o => o.Name).Distinct();
        if (Suggestions.Nearest(name, longNames) is { } near)
            return new InvalidOptionException(name, $"unknown option for '{Command}'; did you mean {near}? (ld {Command} --help lists the options)");
        var elsewhere = CliOptions.All.Where(o => o.Name == name || o.Short == name).SelectMany(o => o.Commands).Distinct().ToList();
        return new InvalidOptionException(name, elsewhere.Count > 0
            ? $"is not an option of '{Command}' (it is of {string.Join(", ", elsewhere)}; ld {Command} --help lists the options)"
            : $"unknown option for '{Command}' (ld {Command} --help lists the options)");
    }
}
