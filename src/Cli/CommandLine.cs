namespace LayerDiffusion.Native.Cli;

/// <summary>
/// The `ld` entry point: parses the arguments against the command's declared options (<see cref="CliOptions"/>),
/// answers --help and --version, dispatches, and turns every user-facing error into one line on stderr and an exit
/// code.
/// </summary>
public static class CommandLine
{
    public const int ExitOk = ExitCodes.Ok, ExitFailed = ExitCodes.Failed, ExitUsage = ExitCodes.Usage;

    /// <summary>The commands that run the engine's compute (the JIT warm-up and the JIT profile are for these).</summary>
    public static bool Computes(string command) =>
        command is "generate" or "layer" or "img2img" or "batch" or "decode" or "verify" or "bench" or "profile";

    public static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.Write(HelpWriter.Overview());
            return ExitUsage;
        }
        if (args[0] is "-h" or "--help")
        {
            Console.Write(HelpWriter.Overview());
            return ExitOk;
        }
        if (args[0] is "--version" or "-V")
        {
            Console.WriteLine(VersionLine());
            return ExitOk;
        }
        var cmd = CliCommands.Find(args[0]);
        if (cmd is null)
        {
            Console.Error.WriteLine($"ld: {UnknownCommand(args[0]).Message}");
            return ExitUsage;
        }
        ArgParser? parsed = null;
        try
        {
            var p = parsed = new ArgParser(cmd.Name, args[1..]);
            if (p.Flag("--help"))
            {
                Console.Write(HelpWriter.Command(cmd));
                return ExitOk;
            }
            if (p.Flag("--version"))
            {
                Console.WriteLine(VersionLine());
                return ExitOk;
            }
            if (cmd.Positional is null && p.Positional.Count > 0)
                throw new InvalidOptionException(p.Positional[0], $"unexpected argument for '{cmd.Name}' (ld {cmd.Name} --help lists the options)");
            if (Computes(cmd.Name) && !JitProfile.Replaying)
                Backends.Cpu.JitWarmup.Start();   // the engine's hot code compiles beside the model loading (perf/RESULTS.md, "JIT tax")
            return cmd.Run(p);
        }
        catch (OperationCanceledException)
        {
            return Report(parsed, cmd.Name, "cancelled; nothing was written", ExitCodes.Cancelled);
        }
        catch (Exception e) when (e is LdException or IOException or UnauthorizedAccessException)
        {
            return Report(parsed, cmd.Name, SettingNames.Message(e), ExitCodes.For(e));
        }
        catch (OutOfMemoryException e)
        {
            // Past the up-front estimate (a lower bound) the machine still ran out. The run's tensors are unreachable
            // now: collect them so an in-process caller (a batch) gets the memory back, and say what to change.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return Report(parsed, cmd.Name, $"out of memory: this run needed more RAM than the machine could give it ({e.Message}); " +
                "it was stopped and nothing was written; try a smaller --width/--height or --batch", ExitCodes.OutOfMemory);
        }
        catch (Exception e) when (!DebugOptions.ShowStackTraces && parsed?.Verbose != true)
        {
            // A bug of ours, not the user's input: still one line and a non-zero exit; --verbose or LD_STACKTRACE=1
            // shows the stack (not LD_DEBUG: glibc reads that one).
            return Report(parsed, cmd.Name, $"internal error: {e.GetType().Name}: {e.Message} (--verbose or LD_STACKTRACE=1 shows where)", ExitFailed);
        }
    }

    /// <summary>
    /// A command's error, one line on stderr: `ld COMMAND: MESSAGE`, or with --progress jsonl an event
    /// {"event": "error", "exit": CODE, "message": ...} so that stderr stays JSON Lines. Returns the exit code.
    /// </summary>
    public static int Report(ArgParser? p, string command, string message, int exit)
    {
        if (p?.Get("--progress") == "jsonl")
            CliLog.Event("error", w => { w.WriteNumber("exit", exit); w.WriteString("message", message); });
        else
            Console.Error.WriteLine($"ld {command}: {message}");
        return exit;
    }

    /// <summary>`ld 1.2.3 (commit abc1234…)`: the version and the commit the build embedded ("unknown" without git).</summary>
    public static string VersionLine() => $"ld {Version} (commit {BuildInfo.Commit})";

    /// <summary>The build's version without the commit suffix the SDK appends.</summary>
    public static string Version => BuildInfo.InformationalVersion.Split('+')[0];

    /// <summary>An unknown command, with the nearest one ("did you mean generate?").</summary>
    public static InvalidOptionException UnknownCommand(string name) =>
        Suggestions.Nearest(name, CliCommands.Names) is { } near
            ? new InvalidOptionException(name, $"unknown command; did you mean {near}? (ld --help lists the commands)")
            : new InvalidOptionException(name, $"unknown command (commands: {string.Join(", ", CliCommands.Names)})");
}
