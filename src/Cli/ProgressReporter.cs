using System.Diagnostics;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// Sampler progress on stderr: a redrawn bar with step, it/s and ETA on a terminal, one plain line per step when
/// the output is piped (logs stay readable).
/// </summary>
public sealed class ProgressReporter(bool quiet)
{
    private readonly bool _tty = !Console.IsErrorRedirected;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public void Step(SamplerStep s)
    {
        if (quiet) return;
        double elapsed = _clock.Elapsed.TotalSeconds;
        int done = s.Index + 1;
        double rate = done / Math.Max(elapsed, 1e-9);
        double eta = (s.Total - done) / Math.Max(rate, 1e-9);
        if (_tty)
        {
            const int Width = 30;
            int filled = (int)Math.Round(Width * (double)done / s.Total);
            Console.Error.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {done}/{s.Total}  {rate:F2} it/s  ETA {eta:F1}s  sigma {s.Sigma:F3}   ");
            if (done == s.Total) Console.Error.WriteLine();
        }
        else Console.Error.WriteLine($"step {done}/{s.Total} sigma {s.Sigma:F4} {rate:F2} it/s eta {eta:F1}s");
    }
}
