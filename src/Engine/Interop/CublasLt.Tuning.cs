using System.Collections.Concurrent;

namespace LayerDiffusion.Native.Interop;

/// <summary>
/// Choosing among the heuristic's candidates by timing them: the heuristic's first guess is often not the fastest
/// kernel for a shape (cuBLAS's own autotuning and PyTorch's do the same). The first product of each shape runs
/// every candidate on the real operands (once to warm up, then <see cref="TuneRuns"/> times between two events)
/// and keeps the fastest; the choice is remembered for the process, so later backends skip the timing. Only on
/// products whose repetition is harmless (beta = 0, or C apart from D). LD_GEMM_TUNE=0 keeps the heuristic's first.
/// The timing synchronises with the device, so it must happen before any stream capture (a warm-up step does it).
/// On the emulated GPU every candidate times 0 ms and the first is kept.
/// </summary>
public sealed unsafe partial class CublasLt
{
    private const int TuneCandidates = 8, TuneRuns = 3;
    private static readonly bool s_tune = Environment.GetEnvironmentVariable("LD_GEMM_TUNE") is not "0";
    private static readonly ConcurrentDictionary<GemmSpec, int> s_choices = new();

    /// <summary>Products whose candidates were timed, and how many of those picked other than the heuristic's first.</summary>
    public static int TunedShapes => s_choices.Count;
    public static int TunedAwayFromFirst => s_choices.Values.Count(i => i != 0);

    private static bool TryReuseChoice(in GemmSpec spec, Plan plan)
    {
        if (!s_choices.TryGetValue(spec, out int chosen) || chosen >= plan.Candidates.Count) return false;
        plan.Chosen = chosen;
        return true;
    }

    private void Tune(Plan plan, in GemmSpec spec, ulong a, ulong b, ulong c, ulong d, float alpha, float beta, CudaStream stream)
    {
        using var start = new CudaEvent(Device);
        using var end = new CudaEvent(Device);
        int best = 0;
        float bestMs = float.PositiveInfinity;
        for (int i = 0; i < plan.Candidates.Count; i++)
        {
            // A candidate the library refuses at run time is skipped, not fatal.
            if (Run(plan, i, a, b, c, d, alpha, beta, stream) != 0) continue;
            start.Record(stream);
            int rc = 0;
            for (int r = 0; r < TuneRuns && rc == 0; r++) rc = Run(plan, i, a, b, c, d, alpha, beta, stream);
            end.Record(stream);
            float ms = start.ElapsedMs(end);
            if (rc == 0 && ms < bestMs) { bestMs = ms; best = i; }
        }
        plan.Chosen = best;
        plan.Tuned = true;
        s_choices[spec] = best;
    }
}
