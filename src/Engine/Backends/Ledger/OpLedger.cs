namespace LayerDiffusion.Native.Backends.Ledger;

/// <summary>One op class's totals over a round: op calls, launches (null where the backend launches nothing), FLOPs, bytes, time.</summary>
public readonly record struct OpClassTotals(long Ops, long? Launches, long Flops, long Bytes, double Ms)
{
    public OpClassTotals Plus(OpClassTotals o) =>
        new(Ops + o.Ops, Launches is { } a && o.Launches is { } b ? a + b : Launches ?? o.Launches, Flops + o.Flops, Bytes + o.Bytes, Ms + o.Ms);
}

/// <summary>What one round of work cost, by op class (classes with no op are absent).</summary>
public sealed record LedgerRound(IReadOnlyDictionary<string, OpClassTotals> Classes)
{
    /// <summary>Every class together (the time is the ops' own, without the gaps between them).</summary>
    public OpClassTotals Total => Classes.Values.Aggregate(new OpClassTotals(0, null, 0, 0, 0), (acc, c) => acc.Plus(c));
}

/// <summary>
/// Collects the ops <see cref="RecordingBackend"/>s report between <see cref="Begin"/> and <see cref="End"/> (one
/// round: one run of the measured work), and sums them by class. Times are resolved at the end of the round, when
/// the device work is done: each op's time is the interval between the marks its recorder took right before and
/// right after the call (on a GPU, events on the op's stream: device time from the op's first to its last launch,
/// host gaps inside a multi-launch op included, gaps between ops not).
/// </summary>
public sealed class OpLedger
{
    private readonly record struct Pending(string Class, long? Launches, long Flops, long Bytes, IOpClock Clock, int Start, int End);

    private readonly List<Pending> _ops = new();
    private readonly List<IOpClock> _clocks = new();

    /// <summary>Whether a round is open (recorders only record then; outside a round they just forward).</summary>
    public bool Recording { get; private set; }

    internal void AddClock(IOpClock clock) => _clocks.Add(clock);

    /// <summary>Opens a round (clears the last one's ops and restarts every clock's marks).</summary>
    public void Begin()
    {
        if (Recording) throw new InvalidOperationException("a ledger round is already open");
        _ops.Clear();
        foreach (var c in _clocks) c.Reset();
        Recording = true;
    }

    internal void Add(in OpCost cost, long? launches, IOpClock clock, int start, int end) =>
        _ops.Add(new Pending(cost.Class, launches, cost.Flops, cost.Bytes, clock, start, end));

    /// <summary>Closes a round whose work failed, keeping nothing of it.</summary>
    public void Abort()
    {
        Recording = false;
        _ops.Clear();
    }

    /// <summary>Closes the round and sums it by class (waits for the device work the marks cover).</summary>
    public LedgerRound End()
    {
        if (!Recording) throw new InvalidOperationException("no ledger round is open");
        Recording = false;
        var classes = new Dictionary<string, OpClassTotals>(StringComparer.Ordinal);
        foreach (var op in _ops)
        {
            var one = new OpClassTotals(1, op.Launches, op.Flops, op.Bytes, op.Clock.ElapsedMs(op.Start, op.End));
            classes[op.Class] = classes.TryGetValue(op.Class, out var sum) ? sum.Plus(one) : one;
        }
        return new LedgerRound(classes);
    }
}
