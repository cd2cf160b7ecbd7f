using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.LayerDiffusion.Sd15;

/// <summary>
/// One attention module with attention sharing (the extension's AttentionSharingUnit), replacing attn(norm(x)) in
/// a transformer block's x = x + attn(norm(x)). With h = the normed input [(b f), d, c] (b groups of F frames):
///   per frame f: h_f = h's rows of frame f [b, d, c]; with control h_f += conv1×1_f(SiLU(conv3×3_f(signal_d)))
///   (the signal with d pixels, the same for every group); kv = h_f (self-attention) or the rows' text context
///   (cross-attention; the frame's overwrite on positive rows); h_f += out_f(attention(q_f(h_f), k_f(kv), v_f(kv)))
///   with every projection's weight W + up_f·down_f (merged once; the base bias kept);
///   m = the frames back in row order; z = temporal_i(LN(m)); per token, attention across the F frames of its group
///   with temporal_q/k/v(z), then temporal_o; m += that; the unit returns m − h.
/// </summary>
public sealed class AttentionSharingUnit : IDisposable
{
    private const float TemporalEps = 1e-6f;

    private readonly int _heads;
    private readonly FrameWeights[] _frames;
    private readonly Tensor _outBias;
    private readonly Tensor _normW, _normB, _inW, _inB, _qW, _qB, _kW, _kB, _vW, _vB, _oW, _oB;
    // Control addend per frame and token count: the signals are fixed for a run, so each is computed once.
    private readonly Dictionary<(int Frame, int Tokens), Tensor> _controlCache = new();
    private IReadOnlyDictionary<int, Tensor>? _cachedFor;

    /// <summary>One frame's merged projections and, with control, its control convolutions.</summary>
    internal sealed record FrameWeights(Tensor Q, Tensor K, Tensor V, Tensor Out, (Tensor W0, Tensor B0, Tensor W2, Tensor B2)? Control);

    internal AttentionSharingUnit(string module, bool self, int channels, int heads, FrameWeights[] frames, Tensor outBias,
        Tensor[] temporal)
    {
        Module = module;
        Self = self;
        Channels = channels;
        _heads = heads;
        _frames = frames;
        _outBias = outBias;
        (_normW, _normB, _inW, _inB, _qW, _qB, _kW, _kB, _vW, _vB, _oW, _oB) =
            (temporal[0], temporal[1], temporal[2], temporal[3], temporal[4], temporal[5], temporal[6], temporal[7], temporal[8], temporal[9], temporal[10], temporal[11]);
    }

    /// <summary>The UNet attention it replaces ("input_blocks.1.1.transformer_blocks.0.attn1").</summary>
    public string Module { get; }
    /// <summary>Self-attention (attn1) or cross-attention (attn2).</summary>
    public bool Self { get; }
    public int Channels { get; }
    public int Frames => _frames.Length;

    /// <param name="h">The block's normed input [(b f), d, c].</param>
    /// <param name="context">The text context [(b f), n, ctx] for a cross-attention; ignored for a self-attention.</param>
    public Tensor Forward(IBackend b, Tensor h, Tensor? context, FrameCall call)
    {
        int rows = h.Dim(0), d = h.Dim(1), c = h.Dim(2), frames = Frames;
        if (call.Frames != frames) throw new ArgumentException($"{Module}: a call of {call.Frames} frames for a unit of {frames}");
        if (rows != call.Rows) throw new ArgumentException($"{Module}: {rows} rows, the call describes {call.Rows}");
        if (!Self && context is null) throw new ArgumentException($"{Module}: a cross-attention needs the context");
        int groups = rows / frames;
        using var scope = TensorScope.Open();
        var perFrame = new Tensor[frames];
        for (int f = 0; f < frames; f++)
        {
            var hf = FrameRows(b, h, f, frames);
            if (_frames[f].Control is not null) hf = b.Add(hf, ControlAddend(b, f, d, call.Signals));
            var kv = Self ? hf : FrameContext(b, context!, f, call);
            var fw = _frames[f];
            var o = b.Attention(b.Linear(hf, fw.Q, null), b.Linear(kv, fw.K, null), b.Linear(kv, fw.V, null), _heads, causal: false);
            perFrame[f] = b.Reshape(b.LinearAdd(o, fw.Out, _outBias, hf), groups, 1, d * c);
        }
        var m = b.Reshape(frames == 1 ? perFrame[0] : b.Concat(1, perFrame), rows, d, c);

        var z = b.Linear(b.LayerNorm(m, _normW, _normB, TemporalEps), _inW, _inB);
        // [(b f), d, c] → [(b d), f, c]: every token attends across the frames of its group.
        var tokens = b.Reshape(b.Permute(b.Reshape(z, groups, frames, d, c), 0, 2, 1, 3), groups * d, frames, c);
        var t = b.Attention(b.Linear(tokens, _qW, _qB), b.Linear(tokens, _kW, _kB), b.Linear(tokens, _vW, _vB), _heads, causal: false);
        var back = b.Reshape(b.Permute(b.Reshape(b.Linear(t, _oW, _oB), groups, d, frames, c), 0, 2, 1, 3), rows, d, c);
        return scope.MoveToOuter(b.Sub(b.Add(m, back), h));
    }

    /// <summary>Rows f, f + F, f + 2F, ... of x [(b f), n, c] as [b, n, c].</summary>
    private static Tensor FrameRows(IBackend b, Tensor x, int f, int frames)
    {
        if (frames == 1) return x;
        int rows = x.Dim(0), n = x.Dim(1), c = x.Dim(2);
        return b.Reshape(b.Slice(b.Reshape(x, rows / frames, frames, n * c), 1, f, 1), rows / frames, n, c);
    }

    /// <summary>
    /// The frame's cross-attention context: its rows' context, the frame's overwrite on the positive rows. A frame
    /// prompt of another length than the call's context (its own 75-token chunk count) is met as Forge's
    /// CONDCrossAttn.concat batches conds of different lengths: both are repeated whole to the least common multiple
    /// of the two lengths, which leaves the attention unchanged (each key and value only appears k times, every
    /// softmax weight divided by k). The extension itself fails there, broadcasting the two lengths.
    /// </summary>
    private Tensor FrameContext(IBackend b, Tensor context, int f, FrameCall call)
    {
        var rows = FrameRows(b, context, f, call.Frames);
        if (call.OverwriteOf(f) is not { } overwrite || !call.HasPositiveRows(f)) return rows;
        if (overwrite.Rank != 3 || overwrite.Dim(0) != 1 || overwrite.Dim(2) != context.Dim(2))
            throw new LdException($"frame {f}'s prompt conditioning {Shape.Format(overwrite.Shape)} does not fit the context [1, N, {context.Dim(2)}] it replaces");
        int tokens = LeastCommonMultiple(rows.Dim(1), overwrite.Dim(1));
        rows = RepeatTokens(b, rows, tokens);
        overwrite = RepeatTokens(b, overwrite, tokens);
        var parts = new Tensor[call.Groups];
        for (int g = 0; g < call.Groups; g++) parts[g] = call.Uncond[g * call.Frames + f] ? b.Slice(rows, 0, g, 1) : overwrite;
        return parts.Length == 1 ? parts[0] : b.Concat(0, parts);
    }

    /// <summary>x [b, n, c] repeated whole along the tokens to [b, tokens, c] (tokens a multiple of n), as torch's repeat(1, k, 1).</summary>
    private static Tensor RepeatTokens(IBackend b, Tensor x, int tokens) =>
        tokens == x.Dim(1) ? x : b.Concat(1, Enumerable.Repeat(x, tokens / x.Dim(1)).ToArray());

    private static int LeastCommonMultiple(int a, int b)
    {
        int gcd = a, r = b;
        while (r != 0) (gcd, r) = (r, gcd % r);
        return checked(a / gcd * b);
    }

    /// <summary>
    /// Computes every frame's control addend for the signal of <paramref name="tokens"/> pixels now, before the
    /// first forward: computed lazily inside it, the addends would be rented from the memory a CUDA graph's warm-up
    /// pass records and kept, so its capture (which finds them cached) would rent in another order than the warm-up.
    /// </summary>
    internal void PrepareControl(IBackend b, IReadOnlyDictionary<int, Tensor> signals, int tokens)
    {
        for (int f = 0; f < _frames.Length; f++)
            if (_frames[f].Control is not null) ControlAddend(b, f, tokens, signals);
    }

    /// <summary>conv1×1_f(SiLU(conv3×3_f(signal))) as tokens [1, d, c], for the signal with d pixels.</summary>
    private Tensor ControlAddend(IBackend b, int f, int tokens, IReadOnlyDictionary<int, Tensor> signals)
    {
        if (!ReferenceEquals(_cachedFor, signals)) ClearControlCache(signals);
        if (_controlCache.TryGetValue((f, tokens), out var cached)) return cached;
        if (!signals.TryGetValue(tokens, out var signal))
            throw new LdException($"{Module}: no control signal of {tokens} pixels (signals: {string.Join(", ", signals.Keys)}); the latent size does not fit the control encoder");
        using var scope = TensorScope.Open();
        var (w0, b0, w2, b2) = _frames[f].Control!.Value;
        var conv = b.Conv2d(b.Silu(b.Conv2d(signal, w0, b0, 1, 1)), w2, b2, 1, 0);
        int c = conv.Dim(1);
        var addend = TensorScope.Detach(b.Permute(b.Reshape(conv, 1, c, tokens), 0, 2, 1));
        _controlCache[(f, tokens)] = addend;
        return addend;
    }

    private void ClearControlCache(IReadOnlyDictionary<int, Tensor>? signals)
    {
        foreach (var t in _controlCache.Values) t.Dispose();
        _controlCache.Clear();
        _cachedFor = signals;
    }

    public void Dispose()
    {
        ClearControlCache(null);
        foreach (var fw in _frames)
        {
            fw.Q.Dispose();
            fw.K.Dispose();
            fw.V.Dispose();
            fw.Out.Dispose();
            if (fw.Control is { } ctl)
            {
                ctl.W0.Dispose();
                ctl.B0.Dispose();
                ctl.W2.Dispose();
                ctl.B2.Dispose();
            }
        }
        foreach (var t in new[] { _normW, _normB, _inW, _inB, _qW, _qB, _kW, _kB, _vW, _vB, _oW, _oB }) t.Dispose();
    }
}
