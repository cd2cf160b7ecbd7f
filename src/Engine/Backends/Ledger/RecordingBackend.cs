using System.Runtime.CompilerServices;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Ledger;

/// <summary>
/// A decorator over any <see cref="IBackend"/> that records each op into an <see cref="OpLedger"/> while a round is
/// open: its class and analytic cost (<see cref="OpCosts"/>), its launches (the inner backend's launch counter,
/// <see cref="IOpInstrumentation"/>; null on the CPU) and its time (marks on the inner backend's clock). Outside a
/// round every op is forwarded untouched. Tensors are the inner backend's own; models loaded through the recorder
/// call it for every op, so nothing in the model code changes. Every op, fused capabilities included, is forwarded
/// to the inner backend's own implementation (never rebuilt from the recorder's basic ops), so a fused kernel counts
/// as the one op it is.
/// </summary>
/// <remarks>
/// Self or cross attention is decided from where q and k come from: the recorder remembers the input each
/// Linear/Reshape/Slice/Permute result was computed from, and attention is self when q and k trace back to the same
/// tensor (the UNet's attn1 projects q, k and v from the same x, attn2 takes k and v from the text context). Inputs
/// with no recorded origin (q, k, v uploaded directly, as the attention bench does) are self when Nq = Nk.
/// Disposing the recorder frees its clocks, not the inner backend: whoever created that disposes it.
/// </remarks>
public class RecordingBackend : IBackend
{
    private readonly IBackend _inner;
    private readonly OpLedger _ledger;
    private readonly IOpInstrumentation? _counter;
    private readonly IOpClock _clock;
    private readonly ConditionalWeakTable<Tensor, Tensor> _origin = new();
    private RecordingBackend? _vaeFamily;

    protected RecordingBackend(IBackend inner, OpLedger ledger)
    {
        _inner = inner;
        _ledger = ledger;
        _counter = inner as IOpInstrumentation;
        _clock = _counter?.CreateOpClock() ?? new StopwatchOpClock();
        ledger.AddClock(_clock);
    }

    /// <summary>A recorder over <paramref name="inner"/>; it reports diagnostics (device timing, memory) when the inner backend does.</summary>
    public static RecordingBackend Wrap(IBackend inner, OpLedger ledger) =>
        inner is IBackendDiagnostics ? new RecordingDiagnosticsBackend(inner, ledger) : new RecordingBackend(inner, ledger);

    /// <summary>The backend that really computes (the inner one of a recorder; any other backend itself).</summary>
    public static IBackend Unwrap(IBackend b) => b is RecordingBackend r ? r._inner : b;

    public IBackend Inner => _inner;
    public string Name => _inner.Name;

    public IBackend VaeFamily
    {
        get
        {
            var family = _inner.VaeFamily;
            return ReferenceEquals(family, _inner) ? this : _vaeFamily ??= Wrap(family, _ledger);
        }
    }

    // ---- the recording step shared by every op
    private readonly record struct Started(bool Recording, int Mark, long? Launches);

    private Started Start() =>
        _ledger.Recording ? new Started(true, _clock.Mark(), _counter?.Launches) : default;

    private T Stop<T>(in Started s, T result, in OpCost cost)
    {
        int end = _clock.Mark();
        _ledger.Add(cost, _counter is null ? null : _counter.Launches - s.Launches, _clock, s.Mark, end);
        return result;
    }

    /// <summary>Records the op and remembers that <paramref name="y"/> was computed from <paramref name="from"/> (for self/cross attention).</summary>
    private Tensor Stop(in Started s, Tensor y, in OpCost cost, Tensor from)
    {
        _origin.AddOrUpdate(y, Origin(from));
        return Stop(s, y, cost);
    }

    private Tensor Origin(Tensor t) => _origin.TryGetValue(t, out var o) ? o : t;

    private bool IsSelfAttention(Tensor q, Tensor k)
    {
        bool traced = _origin.TryGetValue(q, out _) || _origin.TryGetValue(k, out _);
        return traced ? ReferenceEquals(Origin(q), Origin(k)) : q.Dim(1) == k.Dim(1);
    }

    // ---- data movement
    public Tensor FromHost(ReadOnlySpan<float> data, params int[] shape)
    {
        var s = Start();
        var y = _inner.FromHost(data, shape);
        return s.Recording ? Stop(s, y, OpCosts.FromHost(data.Length, y)) : y;
    }

    public float[] ToHost(Tensor t)
    {
        var s = Start();
        var y = _inner.ToHost(t);
        return s.Recording ? Stop(s, y, OpCosts.ToHost(t)) : y;
    }

    public Tensor LoadWeight(SafeTensorsFile file, string name)
    {
        var s = Start();
        var y = _inner.LoadWeight(file, name);
        return s.Recording ? Stop(s, y, OpCosts.LoadWeight(file, name, y)) : y;
    }

    public Tensor Import(Tensor x)
    {
        var s = Start();
        var y = _inner.Import(x);
        return s.Recording ? Stop(s, y, OpCosts.Import(x, y)) : y;
    }

    public Tensor Reshape(Tensor x, params int[] shape)
    {
        var s = Start();
        var y = _inner.Reshape(x, shape);
        return s.Recording ? Stop(s, y, OpCosts.Reshape(x, y), from: x) : y;
    }

    // ---- linear algebra
    public Tensor Linear(Tensor x, Tensor w, Tensor? bias)
    {
        var s = Start();
        var y = _inner.Linear(x, w, bias);
        return s.Recording ? Stop(s, y, OpCosts.Linear(x, w, bias, y), from: x) : y;
    }

    public Tensor LinearAdd(Tensor x, Tensor w, Tensor? bias, Tensor residual)
    {
        var s = Start();
        var y = _inner.LinearAdd(x, w, bias, residual);
        return s.Recording ? Stop(s, y, OpCosts.LinearAdd(x, w, bias, residual, y), from: x) : y;
    }

    public Tensor MatMul(Tensor a, Tensor b)
    {
        var s = Start();
        var y = _inner.MatMul(a, b);
        return s.Recording ? Stop(s, y, OpCosts.MatMul(a, b, y)) : y;
    }

    public Tensor Conv2d(Tensor x, Tensor w, Tensor? bias, int stride, int padding)
    {
        var s = Start();
        var y = _inner.Conv2d(x, w, bias, stride, padding);
        return s.Recording ? Stop(s, y, OpCosts.Conv2d(x, w, bias, stride, padding, y)) : y;
    }

    public Tensor Conv2dAdd(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor residual)
    {
        var s = Start();
        var y = _inner.Conv2dAdd(x, w, bias, stride, padding, residual);
        return s.Recording ? Stop(s, y, OpCosts.Conv2dAdd(x, w, bias, stride, padding, residual, y)) : y;
    }

    // ---- normalisation and attention
    public Tensor GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, bool silu)
    {
        var s = Start();
        var y = _inner.GroupNorm(x, groups, gamma, beta, eps, silu);
        return s.Recording ? Stop(s, y, OpCosts.GroupNorm(x, groups, gamma, beta, eps, silu, y)) : y;
    }

    public Tensor GroupNormAdd(Tensor x, Tensor add, int groups, Tensor gamma, Tensor beta, float eps, bool silu)
    {
        var s = Start();
        var y = _inner.GroupNormAdd(x, add, groups, gamma, beta, eps, silu);
        return s.Recording ? Stop(s, y, OpCosts.GroupNormAdd(x, add, groups, gamma, beta, eps, silu, y)) : y;
    }

    public Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps)
    {
        var s = Start();
        var y = _inner.LayerNorm(x, gamma, beta, eps);
        return s.Recording ? Stop(s, y, OpCosts.LayerNorm(x, gamma, beta, eps, y)) : y;
    }

    public Tensor Softmax(Tensor x)
    {
        var s = Start();
        var y = _inner.Softmax(x);
        return s.Recording ? Stop(s, y, OpCosts.Softmax(x, y)) : y;
    }

    public Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, bool causal)
    {
        var s = Start();
        var y = _inner.Attention(q, k, v, heads, causal);
        return s.Recording ? Stop(s, y, OpCosts.Attention(q, k, v, heads, causal, y, IsSelfAttention(q, k))) : y;
    }

    public Tensor AttentionQkv(Tensor qkv, int heads, bool causal)
    {
        var s = Start();
        var y = _inner.AttentionQkv(qkv, heads, causal);
        return s.Recording ? Stop(s, y, OpCosts.AttentionQkv(qkv, heads, causal, y)) : y;
    }

    // ---- activations
    public Tensor Silu(Tensor x)
    {
        var s = Start();
        var y = _inner.Silu(x);
        return s.Recording ? Stop(s, y, OpCosts.Silu(x, y)) : y;
    }

    public Tensor Gelu(Tensor x)
    {
        var s = Start();
        var y = _inner.Gelu(x);
        return s.Recording ? Stop(s, y, OpCosts.Gelu(x, y)) : y;
    }

    public Tensor QuickGelu(Tensor x)
    {
        var s = Start();
        var y = _inner.QuickGelu(x);
        return s.Recording ? Stop(s, y, OpCosts.QuickGelu(x, y)) : y;
    }

    public Tensor Geglu(Tensor x)
    {
        var s = Start();
        var y = _inner.Geglu(x);
        return s.Recording ? Stop(s, y, OpCosts.Geglu(x, y)) : y;
    }

    // ---- elementwise
    public Tensor Add(Tensor a, Tensor b)
    {
        var s = Start();
        var y = _inner.Add(a, b);
        return s.Recording ? Stop(s, y, OpCosts.Add(a, b, y)) : y;
    }

    public Tensor Sub(Tensor a, Tensor b)
    {
        var s = Start();
        var y = _inner.Sub(a, b);
        return s.Recording ? Stop(s, y, OpCosts.Sub(a, b, y)) : y;
    }

    public Tensor Mul(Tensor a, Tensor b)
    {
        var s = Start();
        var y = _inner.Mul(a, b);
        return s.Recording ? Stop(s, y, OpCosts.Mul(a, b, y)) : y;
    }

    public Tensor Affine(Tensor x, float scale, float shift)
    {
        var s = Start();
        var y = _inner.Affine(x, scale, shift);
        return s.Recording ? Stop(s, y, OpCosts.Affine(x, scale, shift, y)) : y;
    }

    public Tensor Clamp(Tensor x, float min, float max)
    {
        var s = Start();
        var y = _inner.Clamp(x, min, max);
        return s.Recording ? Stop(s, y, OpCosts.Clamp(x, min, max, y)) : y;
    }

    // ---- layout
    public Tensor Concat(int axis, params Tensor[] xs)
    {
        var s = Start();
        var y = _inner.Concat(axis, xs);
        return s.Recording ? Stop(s, y, OpCosts.Concat(axis, xs, y)) : y;
    }

    public Tensor Slice(Tensor x, int axis, int start, int length)
    {
        var s = Start();
        var y = _inner.Slice(x, axis, start, length);
        return s.Recording ? Stop(s, y, OpCosts.Slice(x, axis, start, length, y), from: x) : y;
    }

    public Tensor Permute(Tensor x, params int[] perm)
    {
        var s = Start();
        var y = _inner.Permute(x, perm);
        return s.Recording ? Stop(s, y, OpCosts.Permute(x, perm, y), from: x) : y;
    }

    public Tensor Upsample2x(Tensor x)
    {
        var s = Start();
        var y = _inner.Upsample2x(x);
        return s.Recording ? Stop(s, y, OpCosts.Upsample2x(x, y)) : y;
    }

    public Tensor FlipRot(Tensor x, bool flipW, int k, bool inverse)
    {
        var s = Start();
        var y = _inner.FlipRot(x, flipW, k, inverse);
        return s.Recording ? Stop(s, y, OpCosts.FlipRot(x, flipW, k, inverse, y)) : y;
    }

    public Tensor Median8(Tensor[] xs)
    {
        var s = Start();
        var y = _inner.Median8(xs);
        return s.Recording ? Stop(s, y, OpCosts.Median8(xs, y)) : y;
    }

    // ---- fused capabilities: the inner backend's own (its fused kernel, or its default built from its own ops)
    public Tensor UnaugmentMedian8(Tensor[] passes)
    {
        var s = Start();
        var y = _inner.UnaugmentMedian8(passes);
        return s.Recording ? Stop(s, y, OpCosts.UnaugmentMedian8(passes, y)) : y;
    }

    public Tensor MergeLora(Tensor weight, Tensor up, Tensor down, float scale)
    {
        var s = Start();
        var y = _inner.MergeLora(weight, up, down, scale);
        return s.Recording ? Stop(s, y, OpCosts.MergeLora(weight, up, down, scale, y)) : y;
    }

    public Tensor MergeDiff(Tensor weight, Tensor delta, float scale)
    {
        var s = Start();
        var y = _inner.MergeDiff(weight, delta, scale);
        return s.Recording ? Stop(s, y, OpCosts.MergeDiff(weight, delta, scale, y)) : y;
    }

    // ---- sampling noise
    int Random.IPhiloxNormalDevice.MultiprocessorCount => _inner.MultiprocessorCount;
    int Random.IPhiloxNormalDevice.MaxThreadsPerMultiprocessor => _inner.MaxThreadsPerMultiprocessor;

    float[] Random.IPhiloxNormalDevice.PhiloxNormal(ulong seed, ulong baseBlock, long threads, int n)
    {
        var s = Start();
        var y = _inner.PhiloxNormal(seed, baseBlock, threads, n);
        return s.Recording ? Stop(s, y, OpCosts.PhiloxNormal(n)) : y;
    }

    /// <summary>None: the ledger must see every op of every step, which a replayed graph would hide.</summary>
    public IForwardGraph? CreateForwardGraph() => null;

    /// <summary>No product cache under the ledger: it counts each step's whole work, cross-attention K/V included.</summary>
    public IDisposable HoldProductsOf(IReadOnlyList<Tensor> constants) => NoHold.Instance;

    public void Dispose()
    {
        _vaeFamily?.Dispose();
        _clock.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A recorder over a backend with diagnostics: timing, peaks and memory are the inner backend's.</summary>
internal sealed class RecordingDiagnosticsBackend(IBackend inner, OpLedger ledger) : RecordingBackend(inner, ledger), IBackendDiagnostics
{
    private readonly IBackendDiagnostics _diag = (IBackendDiagnostics)inner;

    public string DeviceName => _diag.DeviceName;
    public string Driver => _diag.Driver;
    public double TimeMs(Action work) => _diag.TimeMs(work);
    public long PeakBytes => _diag.PeakBytes;
    public void ResetPeak() => _diag.ResetPeak();
    public long InUseBytes => _diag.InUseBytes;
    public long WeightBytes => _diag.WeightBytes;
    public (long Free, long Total) MemoryInfo() => _diag.MemoryInfo();
}
