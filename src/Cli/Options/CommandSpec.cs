namespace LayerDiffusion.Native.Cli;

/// <summary>
/// One `ld` command as declared in <see cref="CliCommands"/>: its summary for `ld --help`, its usage lines and
/// notes for `ld COMMAND --help`, and the code that runs it on the parsed arguments.
/// </summary>
/// <param name="Positional">The positional arguments it takes, as shown (`FILE`), or null for none.</param>
public sealed record CommandSpec(string Name, string Summary, string[] Usage, Func<ArgParser, int> Run, string? Positional = null)
{
    /// <summary>Lines after the option list in `--help`.</summary>
    public string[] Notes { get; init; } = [];
}
