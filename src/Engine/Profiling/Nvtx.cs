namespace LayerDiffusion.Native.Profiling;

/// <summary>
/// NVTX thread ranges (push/pop) for Nsight Systems and other tools that implement NVTX injection. On by default when
/// a profiler is attached, free otherwise: a profiler announces itself through NVTX_INJECTION64_PATH, and only then
/// is anything loaded (<see cref="NvtxInjection"/>: the NVTX v3 protocol, called directly, as the NVTX headers would;
/// CUDA 12.9+ ships NVTX as headers only). If the injection cannot be attached, libnvToolsExt.so.1 (NVTX v2) is tried
/// as a fallback. LD_NVTX=0 turns ranges off, LD_NVTX=v2 forces the v2 library. Ranges nest per thread; every call
/// site pushes and pops on the same thread.
/// </summary>
public static class Nvtx
{
    private static readonly (INvtxSink? Sink, string Status) State = Attach();
    private static INvtxSink? Sink => State.Sink;

    /// <summary>Whether ranges are emitted.</summary>
    public static bool Enabled => Sink is not null;

    /// <summary>How ranges are emitted ("NVTX v3 injection: PATH", "libnvToolsExt.so.1 (NVTX v2)") or why not.</summary>
    public static string Status => State.Status;

    /// <summary>A range that ends when disposed (a no-op without a profiler).</summary>
    public static Scope Range(string name)
    {
        if (Sink is null) return default;
        Sink.Push(name);
        return new Scope(Sink);
    }

    /// <summary>
    /// Ranges for consecutive phases inside one outer range: the first phase starts at once, and each call to
    /// <see cref="PhaseRanges.Ended"/> ends the current phase and starts the one after it.
    /// </summary>
    public static PhaseRanges Phases(string outer, IReadOnlyList<string> phases) => new(Sink, outer, phases);

    public readonly struct Scope : IDisposable
    {
        private readonly INvtxSink? _sink;
        internal Scope(INvtxSink sink) => _sink = sink;
        public void Dispose() => _sink?.Pop();
    }

    private static (INvtxSink?, string) Attach()
    {
        string? mode = Environment.GetEnvironmentVariable("LD_NVTX");
        if (mode == "0") return (null, "off (LD_NVTX=0)");
        string? injection = Environment.GetEnvironmentVariable("NVTX_INJECTION64_PATH");
        string why = "no profiler attached (NVTX_INJECTION64_PATH is not set)";
        if (mode != "v2" && !string.IsNullOrEmpty(injection))
        {
            var v3 = NvtxInjection.TryAttach(injection, out why);
            if (v3 is not null) return (v3, $"NVTX v3 injection: {injection}");
        }
        if (mode == "v2" || !string.IsNullOrEmpty(injection))
        {
            var v2 = NvtxV2Library.TryLoad();
            if (v2 is not null) return (v2, $"{NvtxV2Library.Name} (NVTX v2)");
            why += $"; {NvtxV2Library.Name} not found";
        }
        return (null, $"off: {why}");
    }
}

/// <summary>Where ranges go: an attached injection (v3) or the v2 library.</summary>
internal interface INvtxSink
{
    void Push(string name);
    void Pop();
}

/// <summary>The phase ranges of one run (see <see cref="Nvtx.Phases"/>). Disposing ends whatever is still open.</summary>
public sealed class PhaseRanges : IDisposable
{
    private readonly INvtxSink? _sink;
    private readonly IReadOnlyList<string> _phases;
    private int _current = -1, _open;

    internal PhaseRanges(INvtxSink? sink, string outer, IReadOnlyList<string> phases)
    {
        _sink = sink;
        _phases = phases;
        if (sink is null) return;
        Push(outer);
        if (phases.Count > 0) { Push(phases[0]); _current = 0; }
    }

    /// <summary>
    /// The phase <paramref name="name"/> ended: its range is popped and the next phase's pushed. A name out of order
    /// re-synchronises on that name (so a skipped phase costs no mismatched range).
    /// </summary>
    public void Ended(string name)
    {
        if (_sink is null) return;
        int i = IndexOf(name);
        if (_current >= 0) { Pop(); _current = -1; }
        if (i >= 0 && i + 1 < _phases.Count) { Push(_phases[i + 1]); _current = i + 1; }
    }

    private int IndexOf(string name)
    {
        for (int i = 0; i < _phases.Count; i++) if (_phases[i] == name) return i;
        return -1;
    }

    private void Push(string name) { _sink!.Push(name); _open++; }
    private void Pop() { _sink!.Pop(); _open--; }

    public void Dispose()
    {
        while (_open > 0) Pop();
    }
}

/// <summary>The NVTX v2 library's exported functions, found at run time (no static binding: NativeAOT-clean, nothing loaded unless asked).</summary>
internal sealed unsafe class NvtxV2Library : INvtxSink
{
    public const string Name = "libnvToolsExt.so.1";
    private readonly delegate* unmanaged<byte*, int> _push;
    private readonly delegate* unmanaged<int> _pop;

    private NvtxV2Library(nint push, nint pop)
    {
        _push = (delegate* unmanaged<byte*, int>)push;
        _pop = (delegate* unmanaged<int>)pop;
    }

    public static NvtxV2Library? TryLoad()
    {
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(Name, out var lib)) return null;
        if (!System.Runtime.InteropServices.NativeLibrary.TryGetExport(lib, "nvtxRangePushA", out var push)
            || !System.Runtime.InteropServices.NativeLibrary.TryGetExport(lib, "nvtxRangePop", out var pop)) return null;
        return new NvtxV2Library(push, pop);
    }

    public void Push(string name)
    {
        Span<byte> stack = stackalloc byte[NvtxText.StackBytes];
        fixed (byte* p = NvtxText.Utf8z(name, stack)) _push(p);
    }

    public void Pop() => _pop();
}

/// <summary>Null-terminated UTF-8 of a range name, in a caller's stack buffer for the usual short names.</summary>
internal static class NvtxText
{
    public const int StackBytes = 256;

    public static Span<byte> Utf8z(string s, Span<byte> stack)
    {
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(s.Length) + 1;
        Span<byte> buffer = max <= stack.Length ? stack : new byte[max];
        int n = System.Text.Encoding.UTF8.GetBytes(s, buffer);
        buffer[n] = 0;
        return buffer[..(n + 1)];
    }
}
