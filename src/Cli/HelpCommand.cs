namespace LayerDiffusion.Native.Cli;

/// <summary>`ld help [COMMAND]`, `ld help --markdown` (the README's option table), `ld help --update-readme README.md`.</summary>
public static class HelpCommand
{
    public static int Run(ArgParser p)
    {
        if (p.Get("--update-readme") is { } readme)
        {
            string text = File.ReadAllText(readme);
            string updated = HelpWriter.WithTable(text, readme);
            if (updated != text) File.WriteAllText(readme, updated);
            if (!p.Quiet) Console.Error.WriteLine(updated == text ? $"{readme}: option table up to date" : $"{readme}: option table rewritten");
            return CommandLine.ExitOk;
        }
        if (p.Flag("--markdown"))
        {
            Console.Write(HelpWriter.Markdown());
            return CommandLine.ExitOk;
        }
        if (p.Positional.Count == 0)
        {
            Console.Write(HelpWriter.Overview());
            return CommandLine.ExitOk;
        }
        var spec = CliCommands.Find(p.Positional[0]) ?? throw CommandLine.UnknownCommand(p.Positional[0]);
        Console.Write(HelpWriter.Command(spec));
        return CommandLine.ExitOk;
    }
}
