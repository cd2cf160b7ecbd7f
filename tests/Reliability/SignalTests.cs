using System.Diagnostics;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM during a run stop it at the next step: exit 130, "cancelled", and none of the run's
/// files left behind (the previews that had already landed are taken back).
/// </summary>
public sealed class SignalTests
{
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public void ASignalDuringSamplingLeavesNothing(string signal)
    {
        if (!OperatingSystem.IsLinux()) return;
        string dir = TestPaths.TempDir();
        try
        {
            // A shell drives the run and the signal, so the moment the signal goes does not depend on this test
            // host being scheduled (on a loaded machine its polling thread can stall for many seconds).
            string ld = Path.Combine(AppContext.BaseDirectory, "ld.dll");
            // set -m: without job control a shell starts background jobs with SIGINT ignored, as a terminal's Ctrl-C never reaches them.
            string script = $"""
                set -m
                dotnet '{ld}' generate --demo --device cpu --steps 400 --preview-every 1 --quiet --out '{dir}/o.png' --json '{dir}/o.json' 2>'{dir}.err' &
                pid=$!
                for i in $(seq 6000); do [ -e '{dir}/o_preview_step2.png' ] && break; sleep 0.02; done
                kill -{signal} $pid
                wait $pid
                echo "exit=$?"
                cat '{dir}.err'
                """;
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(script);
            using var shell = Process.Start(psi)!;
            string output = shell.StandardOutput.ReadToEnd();
            Assert.True(shell.WaitForExit(TimeSpan.FromMinutes(3)), output);
            Assert.Contains("exit=130", output);
            Assert.Contains("cancelled; nothing was written", output);
            Assert.Empty(Directory.GetFileSystemEntries(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            File.Delete(dir + ".err");
        }
    }
}
