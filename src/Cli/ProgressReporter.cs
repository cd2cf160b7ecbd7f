using System.Diagnostics;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// Sampler progress on stderr (`--progress`): a redrawn bar with step, it/s and ETA on a terminal, one plain line per
/// step when piped, or one JSON event per step and per phase (jsonl). The step clock restarts as each phase ends, so
/// it/s and ETA measure sampling alone, not the model loading and encoding before it.
/// </summary>
public sealed class ProgressReporter(ProgressStyle style)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>A phase of the run ended (the pipeline's PhaseCallback): the next phase's clock starts now.</summary>
    public void Phase(string name, double ms)
    {
        _clock.Restart();
        if (style == ProgressStyle.Jsonl)
            CliLog.Event("phase", w => { w.WriteString("phase", name); w.WriteNumber("ms", Math.Round(ms, 3)); });
    }

    public void Step(SamplerStep s)
    {
        if (style == ProgressStyle.None) return;
        double elapsed = _clock.Elapsed.TotalSeconds;
        int done = s.Index + 1;
        double rate = done / Math.Max(elapsed, 1e-9);
        double eta = (s.Total - done) / Math.Max(rate, 1e-9);
        switch (style)
        {
            case ProgressStyle.Bar:
                const int Width = 30;
                int filled = (int)Math.Round(Width * (double)done / s.Total);
                Console.Error.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {done}/{s.Total}  {rate:F2} it/s  ETA {eta:F1}s  sigma {s.Sigma:F3}   ");
                if (done == s.Total) Console.Error.WriteLine();
                break;
            case ProgressStyle.Lines:
                Console.Error.WriteLine($"step {done}/{s.Total} sigma {s.Sigma:F4} {rate:F2} it/s eta {eta:F1}s");
                break;
            case ProgressStyle.Jsonl:
                CliLog.Event("step", w =>
                {
                    w.WriteNumber("step", done);
                    w.WriteNumber("total", s.Total);
                    w.WriteNumber("sigma", Math.Round(s.Sigma, 6));
                    w.WriteNumber("elapsed_s", Math.Round(elapsed, 4));
                    w.WriteNumber("it_per_s", Math.Round(rate, 4));
                    w.WriteNumber("eta_s", Math.Round(eta, 3));
                });
                break;
        }
    }
}
