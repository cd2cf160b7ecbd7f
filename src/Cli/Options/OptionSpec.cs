using System.Globalization;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// One command-line option as declared in <see cref="CliOptions"/>: the parser, `--help`, the README's option table
/// and the drift test all read this one declaration.
/// </summary>
/// <param name="Name">The long name, with its dashes (`--steps`).</param>
/// <param name="Short">The one-letter alias (`-s`), or null.</param>
/// <param name="Value">The value's placeholder in help (`N`, `FILE`), or null for a flag.</param>
/// <param name="Description">What it does, one sentence.</param>
/// <param name="Commands">The commands that take it.</param>
public sealed record OptionSpec(string Name, string? Short, string? Value, string Description, string[] Commands)
{
    /// <summary>The default as shown (null: none, or "required" where the command needs it).</summary>
    public string? Default { get; init; }

    /// <summary>The default with --demo, where it differs.</summary>
    public string? DemoDefault { get; init; }

    /// <summary>The accepted words (`cpu`, `cuda`, …), where the value is one of a list.</summary>
    public string[]? Choices { get; init; }

    /// <summary>The accepted range of a number (inclusive unless <see cref="MinExclusive"/>).</summary>
    public double? Min { get; init; }
    public double? Max { get; init; }
    public bool MinExclusive { get; init; }

    /// <summary>Allowed values said in words where a list or range does not say it all (`multiple of 8`).</summary>
    public string? Constraint { get; init; }

    public bool IsFlag => Value is null;

    public bool AppliesTo(string command) => Commands.Contains(command);

    /// <summary>The allowed values in words: the choices, the range and the constraint, or null when anything goes.</summary>
    public string? Allowed
    {
        get
        {
            var parts = new List<string>();
            if (Choices is not null) parts.Add(string.Join("|", Choices));
            if (Min is not null || Max is not null)
                parts.Add($"{(MinExclusive ? "(" : "[")}{Number(Min, "-inf")}, {Number(Max, "inf")}]");
            if (Constraint is not null) parts.Add(Constraint);
            return parts.Count == 0 ? null : string.Join(", ", parts);
        }
    }

    /// <summary>The default as shown in help and the README (with the demo's where it differs).</summary>
    public string? DefaultText => DemoDefault is null ? Default : $"{Default}; with --demo {DemoDefault}";

    private static string Number(double? v, string none) => v switch
    {
        null => none,
        long.MaxValue or >= 9.2e18 => "2^63-1",
        { } x => x.ToString(CultureInfo.InvariantCulture),
    };
}
