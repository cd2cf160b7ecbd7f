using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Cli;

/// <summary>`ld verify --golden DIR [--device cpu|cuda|auto] [--cases a,b] [--precision fp32|fp16|bf16]`.</summary>
public static class VerifyCommand
{
    public static int Run(string[] args)
    {
        var p = new ArgParser("verify", args, ["--golden", "--device", "--cases", "--precision"], ["--help"]);
        if (p.Flag("--help"))
        {
            Console.WriteLine("ld verify --golden DIR [--device auto|cpu|cuda] [--cases a,b,...] [--precision fp32|fp16|bf16]");
            return CommandLine.ExitOk;
        }
        string dir = p.Get("--golden") ?? Environment.GetEnvironmentVariable("LD_GOLDEN_DIR") ?? "../shared/golden";
        var precision = PrecisionMode.Parse(p.Get("--precision", "fp32"));
        var cases = p.Get("--cases")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using var backend = DeviceSelection.Create(p.Get("--device", "auto"), precision, Console.Error);
        var summary = new GoldenVerifier().Run(dir, backend, cases, precision, Console.Out);
        return summary.Failed > 0 ? CommandLine.ExitFailed : CommandLine.ExitOk;
    }
}
