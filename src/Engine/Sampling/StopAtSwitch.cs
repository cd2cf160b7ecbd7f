namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// LayerDiffusion's "Stop At" (Forge's ending_step): the patched model (with its concat condition) runs while
/// σ ≥ percent_to_sigma(p); once σ drops below it the original model runs without the concat. p ≥ 1 never switches,
/// p ≤ 0 never uses the patched model. Records which model each call used.
/// </summary>
public sealed class StopAtSwitch
{
    private readonly EpsModel _patched;
    private readonly EpsModel _original;
    private readonly List<bool> _patchedCalls = [];

    public StopAtSwitch(EpsModel patched, EpsModel original, double stopAt, DiscreteSchedule schedule)
    {
        if (!double.IsFinite(stopAt)) throw new InvalidOptionException("stop_at", $"must be a finite number (got {stopAt})");
        _patched = patched;
        _original = original;
        StopAt = stopAt;
        SigmaEnd = schedule.PercentToSigma(stopAt);
        Model = Call;
    }

    public double StopAt { get; }
    /// <summary>The switch point: Forge's <c>percent_to_sigma(stop_at)</c>.</summary>
    public double SigmaEnd { get; }
    /// <summary>The model to sample with.</summary>
    public EpsModel Model { get; }
    /// <summary>Per model call, in order: whether the patched model ran.</summary>
    public IReadOnlyList<bool> PatchedCalls => _patchedCalls;

    private float[] Call(float[] xIn, float timestep, float sigma)
    {
        // Forge compares the float32 sigma tensor with the Python float, which torch casts to float32 first.
        bool patched = !(sigma < (float)SigmaEnd);
        _patchedCalls.Add(patched);
        return (patched ? _patched : _original)(xIn, timestep, sigma);
    }
}
