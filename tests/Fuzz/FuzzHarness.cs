using System.Diagnostics;
using System.Security.Cryptography;
using Xunit;

namespace LayerDiffusion.Native.Tests.Fuzz;

/// <summary>
/// The fuzz collection runs alone (no other test class in parallel), so the process-wide memory figures a case
/// records are its own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "fuzz";
}

/// <summary>
/// Runs one hostile case through the `ld` entry point in-process and checks what every case must satisfy: an exit
/// code in the documented set, no internal error or stack trace, no input modified, no partial or temporary file left
/// in the case's folder, a bounded managed heap (sampled every few milliseconds while the case runs) and no hang.
/// </summary>
internal static class FuzzHarness
{
    /// <summary>Exit codes `ld` documents for bad input: 0 success, 2 usage, 3 a file error, 4 a bad model file, 5 out of memory
    /// (1 only from `ld verify` with failing cases).</summary>
    public static readonly int[] DocumentedExits = [0, 2, 3, 4, 5];

    /// <summary>A small input must never make the run hold more than this (the issue's bound is 2 GiB).</summary>
    public const long MaxLiveHeapBytes = 1L << 30;

    public static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(60);

    public sealed record Outcome(int Code, string Stdout, string Stderr, long PeakLiveBytes, long AllocatedBytes, TimeSpan Elapsed);

    /// <param name="dir">The case's own folder: every output the case may write goes here.</param>
    /// <param name="inputs">Files the run reads; they must be byte-identical afterwards.</param>
    /// <param name="allowedExits">Exit codes this case may end with (default <see cref="DocumentedExits"/>).</param>
    public static Outcome Run(string name, string dir, string[] args, IEnumerable<string> inputs, int[]? allowedExits = null)
    {
        var inputHashes = inputs.Where(File.Exists).Distinct().ToDictionary(p => p, Hash);
        var before = Listing(dir);

        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline;
        bool sampling = true;
        // A thread of its own: the CPU backend keeps the thread pool busy, where a sampling task would starve.
        var sampler = new Thread(() =>
        {
            while (Volatile.Read(ref sampling))
            {
                long now = GC.GetTotalMemory(false);
                if (now > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, now);
                Thread.Sleep(2);
            }
        }) { IsBackground = true };
        sampler.Start();
        var clock = Stopwatch.StartNew();
        var run = Task.Run(() => CliRunner.Run(args));
        bool finished = run.Wait(CaseTimeout);
        clock.Stop();
        Volatile.Write(ref sampling, false);
        sampler.Join();
        Assert.True(finished, $"{name}: no result after {CaseTimeout.TotalSeconds} s (hang?): ld {string.Join(' ', args)}");
        var (code, stdout, stderr) = run.Result;
        var outcome = new Outcome(code, stdout, stderr, Math.Max(0, peak - baseline), GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore, clock.Elapsed);

        string what = $"{name}: ld {string.Join(' ', args.Select(a => a.Length > 80 ? a[..80] + "..." : a))}\nexit {code}\n{stderr}";
        Assert.True((allowedExits ?? DocumentedExits).Contains(code), $"undocumented exit code: {what}");
        Assert.DoesNotContain("internal error", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
        if (code != 0) Assert.True(stderr.Trim().Length > 0, $"a failure without a message: {what}");
        foreach (var (path, hash) in inputHashes)
            Assert.True(File.Exists(path) && Hash(path).SequenceEqual(hash), $"input {path} was modified or removed: {what}");
        var after = Listing(dir);
        var added = after.Except(before).ToList();
        Assert.True(!added.Any(IsTemporary), $"temporary files left behind ({string.Join(", ", added.Where(IsTemporary))}): {what}");
        if (code != 0) Assert.True(added.Count == 0, $"a failed run left files ({string.Join(", ", added)}): {what}");
        Assert.True(outcome.PeakLiveBytes <= MaxLiveHeapBytes, $"live heap grew by {outcome.PeakLiveBytes / 1048576} MiB: {what}");
        return outcome;
    }

    /// <summary>Names the atomic writer gives its staged files (see OutputPlan).</summary>
    private static bool IsTemporary(string path) => Path.GetFileName(path).Contains(".ld-partial", StringComparison.Ordinal);

    private static HashSet<string> Listing(string dir) =>
        Directory.Exists(dir) ? Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).ToHashSet() : [];

    private static byte[] Hash(string path)
    {
        using var s = File.OpenRead(path);
        return SHA256.HashData(s);
    }
}
