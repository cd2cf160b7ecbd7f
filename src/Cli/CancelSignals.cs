using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// Routes Ctrl-C (SIGINT) and SIGTERM to a cancellation source while a run is in progress, instead of ending the
/// process: the run stops at its next step and its outputs transaction takes back what it had written. Disposing
/// restores the default handling.
/// </summary>
public static class CancelSignals
{
    public static IDisposable Route(CancellationTokenSource cancel)
    {
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        PosixSignalRegistration? term = null;
        if (!OperatingSystem.IsWindows())
            term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cancel.Cancel(); });
        return new Registration(() =>
        {
            Console.CancelKeyPress -= onCancel;
            term?.Dispose();
        });
    }

    private sealed class Registration(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
