namespace LayerDiffusion.Native.Tests;

/// <summary>Runs the `ld` entry point in-process with captured output (the CLI never calls Environment.Exit).</summary>
public static class CliRunner
{
    private static readonly object Gate = new();

    public static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        lock (Gate)
        {
            var oldOut = Console.Out; var oldErr = Console.Error;
            var o = new StringWriter(); var e = new StringWriter();
            Console.SetOut(o); Console.SetError(e);
            try
            {
                int code = global::LayerDiffusion.Native.Cli.CommandLine.Run(args);
                return (code, o.ToString(), e.ToString());
            }
            finally
            {
                Console.SetOut(oldOut); Console.SetError(oldErr);
            }
        }
    }
}
