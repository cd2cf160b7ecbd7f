namespace LayerDiffusion.Native.Cli;

/// <summary>The `ld` entry point: dispatches a subcommand and turns every user-facing error into one line and exit 2.</summary>
public static class CommandLine
{
    public const int ExitOk = 0, ExitFailed = 1, ExitUsage = 2;

    private static readonly (string Name, string Summary, Func<string[], int> Run)[] Commands =
    [
        ("generate", "transparent text-to-image (--method attn|conv; --demo for the built-in model)", GenerateCommand.Generate),
        ("layer", "layer workflows: --mode fg2ble|bg2ble|fgble2bg|bgble2fg", GenerateCommand.Layer),
        ("img2img", "transparent image-to-image: --init RGBA.png --denoise S (--method attn|conv)", GenerateCommand.Img2Img),
        ("batch", "many jobs from a JSON Lines file, models loaded once; --shard I/N, Slurm arrays, Kubernetes Indexed Jobs", BatchCommand.Run),
        ("decode", "transparent decoder alone: --rgb IMAGE --latent FILE.safetensors -> RGBA PNG", DecodeCommand.Run),
        ("verify", "check the engine against a golden data folder", VerifyCommand.Run),
        ("info", "describe a checkpoint, patch file or safetensors file", InfoCommand.Run),
        ("bench", "per-component timings and peak memory (JSON + Markdown; --reference for PyTorch ratios)", BenchCommand.Run),
        ("profile", "cost ledger: launches, FLOPs, bytes and time per op class of a UNet step, VAE and transparent decode/encode", ProfileCommand.Run),
        ("selftest", "check every GPU op against the CPU reference on random inputs", SelftestCommand.Run),
    ];

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintUsage(Console.Out);
            return args.Length == 0 ? ExitUsage : ExitOk;
        }
        var cmd = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (cmd.Run is null)
        {
            Console.Error.WriteLine($"ld: unknown command '{args[0]}' (commands: {string.Join(", ", Commands.Select(c => c.Name))})");
            return ExitUsage;
        }
        try
        {
            return cmd.Run(args[1..]);
        }
        catch (LdException e)
        {
            Console.Error.WriteLine($"ld {cmd.Name}: {SettingNames.Message(e)}");
            return ExitUsage;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"ld {cmd.Name}: {e.Message}");
            return ExitUsage;
        }
        catch (UnauthorizedAccessException e)
        {
            Console.Error.WriteLine($"ld {cmd.Name}: {e.Message}");
            return ExitUsage;
        }
        catch (OutOfMemoryException e)
        {
            // Past the up-front estimate (a lower bound) the machine still ran out. The run's tensors are unreachable
            // now: collect them so an in-process caller (a batch) gets the memory back, and say what to change.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Console.Error.WriteLine($"ld {cmd.Name}: out of memory: this run needed more RAM than the machine could give it ({e.Message}); " +
                "it was stopped and nothing was written; try a smaller --width/--height or --batch");
            return ExitUsage;
        }
        catch (Exception e) when (!DebugOptions.ShowStackTraces)
        {
            // A bug of ours, not the user's input: still one line and a non-zero exit; LD_STACKTRACE=1 shows the stack (not LD_DEBUG: glibc reads that one).
            Console.Error.WriteLine($"ld {cmd.Name}: internal error: {e.GetType().Name}: {e.Message} (set LD_STACKTRACE=1 for details)");
            return ExitFailed;
        }
    }

    private static void PrintUsage(TextWriter w)
    {
        w.WriteLine("ld — LayerDiffusion.Native: transparent images and layers with SDXL + LayerDiffusion");
        w.WriteLine();
        w.WriteLine("usage: ld <command> [options]");
        foreach (var c in Commands) w.WriteLine($"  {c.Name,-10} {c.Summary}");
        w.WriteLine();
        w.WriteLine("Run 'ld <command> --help' for a command's options.");
    }
}
