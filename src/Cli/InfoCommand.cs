using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models;

namespace LayerDiffusion.Native.Cli;

/// <summary>`ld info FILE`: what a safetensors file is.</summary>
public static class InfoCommand
{
    public static int Run(ArgParser p)
    {
        if (p.Positional.Count != 1)
            throw new InvalidOptionException("FILE", p.Positional.Count == 0 ? "ld info needs one safetensors file" : $"ld info takes one file, not {p.Positional.Count}");
        using var f = SafeTensorsFile.Open(p.Positional[0]);
        Console.Write(CheckpointInspector.Describe(f));
        return CommandLine.ExitOk;
    }
}
