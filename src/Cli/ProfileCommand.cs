using LayerDiffusion.Native.Bench;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `ld profile`: the cost ledger. One UNet step, the VAE decode, the 8-way transparent decode and the transparent
/// encode at one size, each run through a recorder over the backend (Backends/Ledger), so every op is counted by
/// class: launches, FLOPs, bytes moved, time (CUDA events per op on a GPU, the stopwatch on the CPU) and on a GPU the
/// achieved TFLOP/s and GB/s against the card's peak. The measuring is `ld bench`'s (same components, weights and
/// conventions); the output is bench JSON v1 with a record per op class (`params.op_class`, `counts`, `rates`) and
/// Markdown tables rendered from it. perf/README.md, "Reading the cost ledger", explains the columns.
/// </summary>
public static class ProfileCommand
{
    /// <summary>What `ld profile` measures unless --components says otherwise.</summary>
    public const string DefaultComponents = "unet_step,vae_decode,tdec_8way,tenc";

    public static int Run(ArgParser p)
    {

        var common = BenchCommand.CommonOptions(p);
        // Without --width/--height the session picks the first default size of its weights (128x128 tiny, 1024x1024 real).
        IReadOnlyList<(int, int)>? sizes = null;
        if (p.Has("--width") || p.Has("--height"))
        {
            int width = Side(p, "--width", p.Has("--height") ? Side(p, "--height", 0) : 0);
            sizes = [(width, Side(p, "--height", width))];
        }
        var options = common with
        {
            Ledger = true,
            Sizes = sizes,
            Batches = [p.Int("--batch")],
            Components = p.Value("--components"),
            Warmup = common.Warmup ?? 1,
            Runs = common.Runs ?? 5,
            CommandLine = "ld profile " + string.Join(' ', p.Args.Select(BenchCommand.Quote)),
        };
        var result = BenchCommand.Measure("profile", options, p.Get("--json"), p.Get("--markdown"), CliLog.For(p).Notes);
        return result.Failed.Count > 0 ? CommandLine.ExitFailed : CommandLine.ExitOk;
    }

    private static int Side(ArgParser p, string option, int fallback)
    {
        int v = p.Int(option, fallback);
        return v % 8 == 0 ? v : throw new InvalidOptionException(option, $"{v} is not a multiple of 8");
    }

    /// <summary>What `ld profile --help` says after the options.</summary>
    public static string[] Notes =>
    [
        "The cost ledger: every op of one UNet step (batch B: 2 is one CFG step of one image), the VAE decode, the 8-way",
        "transparent decode and the transparent encode (batch 1) at W x H, by op class: launches, FLOPs, bytes moved, time",
        "(CUDA events per op on a GPU, wall time on the CPU), achieved TFLOP/s and GB/s and the share of the card's peak.",
        "Weights as `ld bench`: tiny synthetic on the CPU (or --tiny), the released shapes on a GPU (or --synthetic), or files.",
        "See perf/README.md, \"Reading the cost ledger\".",
    ];
}
