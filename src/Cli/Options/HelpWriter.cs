using System.Text;

namespace LayerDiffusion.Native.Cli;

/// <summary>`ld --help`, `ld COMMAND --help` and the README's option table, rendered from the declarations.</summary>
public static class HelpWriter
{
    public const string ReadmeBegin = "<!-- ld-options:begin: generated from src/Cli/Options/CliOptions.cs by scripts/update-readme-options.sh; do not edit -->";
    private const string BeginPrefix = "<!-- ld-options:begin";
    public const string ReadmeEnd = "<!-- ld-options:end -->";

    public static string Overview()
    {
        var w = new StringBuilder();
        w.AppendLine("ld — LayerDiffusion.Native: transparent images and layers with SDXL + LayerDiffusion");
        w.AppendLine();
        w.AppendLine("usage: ld <command> [options]");
        foreach (var c in CliCommands.All) w.AppendLine($"  {c.Name,-10} {c.Summary}");
        w.AppendLine();
        w.AppendLine("Run 'ld <command> --help' for a command's options; 'ld --version' for the version and commit.");
        return w.ToString();
    }

    public static string Command(CommandSpec c)
    {
        var w = new StringBuilder();
        w.AppendLine($"ld {c.Name} — {c.Summary}");
        w.AppendLine();
        for (int i = 0; i < c.Usage.Length; i++) w.AppendLine((i == 0 ? "usage: " : "       ") + c.Usage[i]);
        w.AppendLine();
        w.AppendLine("options:");
        var options = CliOptions.For(c.Name).ToList();
        var heads = options.Select(Head).ToList();
        int width = Math.Min(heads.Max(h => h.Length), 30);
        for (int i = 0; i < options.Count; i++)
        {
            string head = heads[i].PadRight(width);
            string line = $"  {head}  {options[i].Description}{Details(options[i])}";
            w.AppendLine(heads[i].Length > width ? $"  {heads[i]}\n  {new string(' ', width)}  {options[i].Description}{Details(options[i])}" : line);
        }
        if (c.Notes.Length > 0)
        {
            w.AppendLine();
            foreach (var n in c.Notes) w.AppendLine(n);
        }
        return w.ToString();
    }

    /// <summary>`-s, --seed N` / `    --steps N`.</summary>
    public static string Head(OptionSpec o) =>
        (o.Short is null ? "    " : o.Short + ", ") + o.Name + (o.IsFlag ? "" : " " + o.Value);

    private static string Details(OptionSpec o)
    {
        var parts = new List<string>();
        if (o.Allowed is { } allowed) parts.Add(allowed);
        if (o.DefaultText is { } d) parts.Add("default " + d);
        return parts.Count == 0 ? "" : $" ({string.Join("; ", parts)})";
    }

    /// <summary>The README's option table: one row per declaration.</summary>
    public static string Markdown()
    {
        var w = new StringBuilder();
        w.AppendLine("| Option | Commands | Values | Default | What it does |");
        w.AppendLine("|---|---|---|---|---|");
        foreach (var o in CliOptions.All)
        {
            string name = $"`{o.Name}{(o.IsFlag ? "" : " " + o.Value)}`" + (o.Short is null ? "" : $", `{o.Short}`");
            string commands = o.Commands.Length == CliCommands.Names.Length ? "all" : string.Join(", ", o.Commands);
            w.AppendLine($"| {Cell(name)} | {commands} | {Cell(o.Allowed)} | {Cell(o.DefaultText)} | {Cell(o.Description)} |");
        }
        return w.ToString();
    }

    private static string Cell(string? s) => s is null ? "" : s.Replace("|", "\\|");

    /// <summary>The README text with the table between the markers replaced by <see cref="Markdown"/>.</summary>
    public static string WithTable(string readme, string path)
    {
        int begin = readme.IndexOf(BeginPrefix, StringComparison.Ordinal), end = readme.IndexOf(ReadmeEnd, StringComparison.Ordinal);
        if (begin < 0 || end < begin)
            throw new InvalidOptionException("--update-readme", $"{path}: no '{BeginPrefix} …' … '{ReadmeEnd}' region");
        string nl = readme.Contains("\r\n") ? "\r\n" : "\n";
        return readme[..begin] + ReadmeBegin + nl + Markdown().ReplaceLineEndings(nl) + readme[end..];
    }

    /// <summary>The table as it stands between the markers (for the drift test).</summary>
    public static string? TableIn(string readme)
    {
        int begin = readme.IndexOf(BeginPrefix, StringComparison.Ordinal), end = readme.IndexOf(ReadmeEnd, StringComparison.Ordinal);
        if (begin < 0 || end < begin) return null;
        int body = readme.IndexOf('\n', begin) + 1;
        return body <= 0 || body > end ? "" : readme[body..end].ReplaceLineEndings("\n");
    }
}
