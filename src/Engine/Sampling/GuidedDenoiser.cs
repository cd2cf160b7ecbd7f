using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Sampling;

/// <summary>LayerDiffusion's "Stop At" (Forge's ending_step): the UNet that runs once σ drops below percent_to_sigma(p).</summary>
/// <param name="Original">The unpatched UNet, run without the concat latents.</param>
/// <param name="Percent">p in [0, 1]: p ≥ 1 never switches, p ≤ 0 never runs the patched UNet.</param>
public sealed record StopAt(SdxlUnet Original, double Percent, DiscreteSchedule Schedule);

/// <summary>
/// The UNet as the samplers see it (<see cref="Model"/>), one class for `ld generate` and the golden sampler cases.
/// It owns the uploaded conditioning and the layer models' concat latents, and applies classifier-free guidance as
/// Forge does: ε = ε_u + (ε_c − ε_u)·cfg, the two halves in one doubled-batch UNet call when their contexts have the
/// same length (two calls otherwise), and at cfg = 1 only the positive half runs, so ε = ε_c exactly. With
/// <see cref="StopAt"/> the patched UNet (with the concat latents cat([x, c1(, c2)]) along channels, neither scaled
/// by c_in nor noised, the same for both halves) runs while σ ≥ percent_to_sigma(p), the original one without them
/// afterwards. Sampling stays on the host; each call uploads x, runs the UNet in a scope and reads ε back. Where the
/// backend records forwards (<see cref="IBackend.CreateForwardGraph"/>: a CUDA graph), the one UNet call per step
/// (the CFG batch, or the positive half at cfg = 1) is recorded at its second step and replayed from then on, with x and
/// the timestep embedding as its uploads; the split CFG halves (two calls per step) run eagerly. The contexts are held
/// constant on the backend (<see cref="IBackend.HoldProductsOf"/>), so each cross-attention layer's K and V are computed
/// at the first step only.
/// </summary>
public sealed class GuidedDenoiser : IDisposable
{
    private readonly SdxlUnet _unet;
    private readonly CfgConditioning[] _conds;
    private readonly Func<int, int> _select;
    private int _calls;
    private readonly float _cfg;
    private readonly int[] _imageShape;
    private readonly Tensor[] _concat;
    private readonly SdxlUnet? _original;
    private readonly double _sigmaEnd;
    private readonly List<bool> _patchedCalls = [];
    private readonly Action<bool[]>? _rows;
    // Per conditioning, both halves' context and y along the batch, for the one-call CFG batch (null when the
    // context lengths differ).
    private readonly (Tensor? Context, Tensor? Y)[] _both;
    private readonly IForwardGraph? _graph;
    private readonly IBackend _graphBackend;
    private readonly IDisposable _constantContexts;

    /// <param name="unet">The UNet (the patched one under Stop At); it takes the latent's channels plus the concat latents'.</param>
    /// <param name="conditioning">Owned from now on: disposed with this denoiser.</param>
    /// <param name="imageShape">[C, H, W] of one latent.</param>
    /// <param name="concat">Condition latents [1 or B, C', H, W] on the UNet's backend; owned from now on.</param>
    /// <param name="stopAt">Where to switch to the original UNet; null never switches.</param>
    /// <param name="rows">Told before every UNet call which of its batch rows are negative-prompt rows (Forge's
    /// cond_mark, for SD1.5's attention sharing).</param>
    public GuidedDenoiser(SdxlUnet unet, CfgConditioning conditioning, float cfg, int[] imageShape, IReadOnlyList<Tensor>? concat = null, StopAt? stopAt = null,
        Action<bool[]>? rows = null)
        : this(unet, [conditioning], _ => 0, cfg, imageShape, concat, stopAt, rows)
    {
    }

    /// <summary>
    /// Prompt editing: the conditioning changes per model call. <paramref name="select"/> maps the call counter (0, 1,
    /// … one count per model call, as A1111's CFGDenoiser.step counts) to an index into <paramref name="conditionings"/>,
    /// all owned from now on and of one batch.
    /// </summary>
    public GuidedDenoiser(SdxlUnet unet, IReadOnlyList<CfgConditioning> conditionings, Func<int, int> select, float cfg, int[] imageShape,
        IReadOnlyList<Tensor>? concat = null, StopAt? stopAt = null, Action<bool[]>? rows = null)
    {
        if (conditionings.Count == 0) throw new ArgumentException("no conditioning", nameof(conditionings));
        var conditioning = conditionings[0];
        _rows = rows;
        if (!float.IsFinite(cfg)) throw new InvalidOptionException("cfg", $"must be a finite number (got {cfg})");
        if (imageShape.Length != 3) throw new ArgumentException("imageShape is [C, H, W]", nameof(imageShape));
        if (stopAt is not null && !double.IsFinite(stopAt.Percent)) throw new InvalidOptionException("stop_at", $"must be a finite number (got {stopAt.Percent})");
        _unet = unet;
        _conds = [.. conditionings];
        _select = select;
        _cfg = cfg;
        _imageShape = imageShape;
        _concat = concat?.Select(TensorScope.Detach).ToArray() ?? [];
        _original = stopAt?.Original;
        _sigmaEnd = stopAt is null ? 0.0 : stopAt.Schedule.PercentToSigma(stopAt.Percent);
        int channels = imageShape[0] + _concat.Sum(c => c.Dim(1));
        if (unet.InChannels != channels)
            throw new LdException(_concat.Length == 0
                ? $"the UNet takes {unet.InChannels} input channels; this workflow gives it {imageShape[0]} (a layer model needs its condition images)"
                : $"the UNet takes {unet.InChannels} input channels but the latent and condition latents give {channels}");
        if (_original is not null && _original.InChannels != imageShape[0])
            throw new LdException($"the unpatched UNet takes {_original.InChannels} input channels, not the latent's {imageShape[0]}");
        _both = new (Tensor?, Tensor?)[_conds.Length];
        for (int i = 0; i < _conds.Length; i++)
        {
            var c = _conds[i];
            if (c.Batch != conditioning.Batch) throw new ArgumentException("the scheduled conditionings differ in batch", nameof(conditionings));
            if (cfg == 1f || c.NegativeContext.Dim(1) != c.PositiveContext.Dim(1)) continue;
            var b = unet.Weights.Backend;
            _both[i] = (TensorScope.Detach(b.Concat(0, c.NegativeContext, c.PositiveContext)),
                c.NegativeY is null ? null : TensorScope.Detach(b.Concat(0, c.NegativeY, c.PositiveY!)));
        }
        _graphBackend = unet.Weights.Backend;
        _graph = _graphBackend.CreateForwardGraph();
        // The contexts stay the same for this denoiser's life: every cross-attention K and V is computed once.
        _constantContexts = _graphBackend.HoldProductsOf(_conds.SelectMany(c => new[] { c.NegativeContext, c.PositiveContext })
            .Concat(_both.Select(both => both.Context)).OfType<Tensor>().ToArray());
        Model = Eps;
    }

    /// <summary>The guided ε model to sample with.</summary>
    public EpsModel Model { get; }
    /// <summary>Per model call, in order: whether the patched UNet ran (always, without Stop At).</summary>
    public IReadOnlyList<bool> PatchedCalls => _patchedCalls;
    /// <summary>The Stop At switch point, Forge's percent_to_sigma(p) (0 without Stop At: never reached).</summary>
    public double SigmaEnd => _sigmaEnd;
    /// <summary>The recorder of the per-step UNet call, null where the backend has none (counts for tests and logs).</summary>
    public IForwardGraph? Graph => _graph;

    private float[] Eps(float[] x, float timestep, float sigma)
    {
        int which = _select(_calls++);
        var cond = _conds[which];
        var (bothContext, bothY) = _both[which];
        int batch = cond.Batch, image = _imageShape[0] * _imageShape[1] * _imageShape[2];
        if (x.Length != batch * image)
            throw new ArgumentException($"latent batch of {x.Length} values does not fit {batch} rows of [{string.Join(", ", _imageShape)}]");
        // Forge compares the float32 sigma tensor with the Python float, which torch casts to float32 first.
        bool patched = !(sigma < (float)_sigmaEnd);
        _patchedCalls.Add(patched);
        var unet = patched ? _unet : _original ?? throw new InvalidOperationException("Stop At switched without an unpatched UNet");
        var concat = patched ? _concat : [];

        if (_cfg == 1f) return Run(unet, concat, x, [false], timestep, cond.PositiveContext, cond.PositiveY, replayable: true);
        float[] uncondEps, condEps;
        if (bothContext is not null)
        {
            var eps = Run(unet, concat, x, [true, false], timestep, bothContext, bothY, replayable: true);
            (uncondEps, condEps) = (eps[..x.Length], eps[x.Length..]);
        }
        else
        {
            uncondEps = Run(unet, concat, x, [true], timestep, cond.NegativeContext, cond.NegativeY);
            condEps = Run(unet, concat, x, [false], timestep, cond.PositiveContext, cond.PositiveY);
        }
        var result = new float[x.Length];
        for (int i = 0; i < result.Length; i++) result[i] = uncondEps[i] + (condEps[i] - uncondEps[i]) * _cfg;
        return result;
    }

    /// <summary>ε of the UNet for x repeated once per CFG half in <paramref name="halves"/> (true: the negative half).</summary>
    /// <param name="replayable">The only UNet call of a step: recorded and replayed where the backend can.</param>
    private float[] Run(SdxlUnet unet, Tensor[] concat, float[] xHost, bool[] halves, float timestep, Tensor context, Tensor? y, bool replayable = false)
    {
        var b = unet.Weights.Backend;
        int copies = halves.Length;
        _rows?.Invoke(halves.SelectMany(negative => Enumerable.Repeat(negative, _conds[0].Batch)).ToArray());
        var timesteps = new float[_conds[0].Batch * copies];
        Array.Fill(timesteps, timestep);
        Tensor Forward()
        {
            var x = b.FromHost(xHost, [_conds[0].Batch, .. _imageShape]);
            if (copies == 2) x = b.Concat(0, x, x);
            var input = concat.Length == 0 ? x : ConcatInput.Build(b, x, concat);
            return unet.Forward(input, timesteps, context, y);
        }
        if (!replayable || _graph is null || !ReferenceEquals(b, _graphBackend))
        {
            using var scope = TensorScope.Open();
            return b.ToHost(Forward());
        }
        // Same UNet (and attention hook), device inputs and shapes: the same graph. Its host uploads are x and the
        // UNet's timestep embedding (SdxlUnet.Forward uploads E(t)); anything else the capture refuses (the call then
        // runs eagerly).
        var key = (unet, unet.AttentionHook, concat, context, y, copies, xHost.Length);
        return _graph.Run(key, [xHost, SinusoidalEmbedding.Of(timesteps, unet.Config.ModelChannels)], Forward);
    }

    public void Dispose()
    {
        _graph?.Dispose();
        _constantContexts.Dispose();
        foreach (var c in _conds) c.Dispose();
        foreach (var (context, y) in _both)
        {
            context?.Dispose();
            y?.Dispose();
        }
        foreach (var c in _concat) c.Dispose();
    }
}
