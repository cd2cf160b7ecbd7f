using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models;

namespace LayerDiffusion.Native.Cli;

/// <summary>`ld info FILE`: what a safetensors file is.</summary>
public static class InfoCommand
{
    public static int Run(string[] args)
    {
        var p = new ArgParser("info", args, [], ["--help"]);
        if (p.Flag("--help") || p.Positional.Count != 1)
        {
            Console.WriteLine("ld info FILE.safetensors");
            return p.Flag("--help") ? CommandLine.ExitOk : CommandLine.ExitUsage;
        }
        using var f = SafeTensorsFile.Open(p.Positional[0]);
        Console.Write(CheckpointInspector.Describe(f));
        return CommandLine.ExitOk;
    }
}
