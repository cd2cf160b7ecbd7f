using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Cli;

/// <summary>`ld verify --golden DIR [--device cpu|cuda|auto] [--cases a,b] [--precision fp32|fp16|bf16]`.</summary>
public static class VerifyCommand
{
    public static int Run(ArgParser p)
    {
        string dir = p.Get("--golden") ?? Environment.GetEnvironmentVariable("LD_GOLDEN_DIR") ?? "../shared/golden";
        var precision = PrecisionMode.Parse(p.Value("--precision"));
        var cases = p.Get("--cases")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using var backend = DeviceSelection.Create(p.Value("--device"), precision, CliLog.For(p).Notes);
        var summary = new GoldenVerifier().Run(dir, backend, cases, precision, Console.Out);
        return summary.Failed > 0 ? CommandLine.ExitFailed : CommandLine.ExitOk;
    }
}
