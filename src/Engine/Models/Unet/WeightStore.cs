using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Unet;

/// <summary>
/// The weights of one network (the UNet, the VAE, ...): every float tensor of a checkpoint under one key prefix,
/// uploaded through the backend and addressed by its name without the prefix. Graph builders fetch each tensor
/// with the shape the architecture needs, so a missing or misshaped tensor fails at load time naming the full key.
/// A store is immutable: <see cref="With"/> makes a copy with some tensors replaced (patched weights) and leaves
/// this one untouched, so the unpatched network stays available ("Stop At" switches back to it exactly).
/// </summary>
public sealed class WeightStore
{
    private readonly Dictionary<string, Tensor> _tensors;

    private WeightStore(IBackend backend, string source, string prefix, Dictionary<string, Tensor> tensors)
    {
        Backend = backend;
        Source = source;
        Prefix = prefix;
        _tensors = tensors;
    }

    public IBackend Backend { get; }
    /// <summary>The file the weights came from (for error messages).</summary>
    public string Source { get; }
    /// <summary>The key prefix stripped from every name (e.g. "model.diffusion_model.").</summary>
    public string Prefix { get; }
    public IReadOnlyCollection<string> Names => _tensors.Keys;
    public int Count => _tensors.Count;

    /// <summary>Loads every float tensor whose key starts with <paramref name="prefix"/>.</summary>
    public static WeightStore Load(IBackend backend, SafeTensorsFile file, string prefix)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in file.Names)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            // Integer buffers (position ids and the like) are not weights.
            if (!DTypes.IsFloat(file.Info(name).DType)) continue;
            tensors[name[prefix.Length..]] = backend.LoadWeight(file, name);
        }
        if (tensors.Count == 0) throw new ModelFormatException(file.Path, null, $"no tensors under '{prefix}'");
        return new WeightStore(backend, file.Path, prefix, tensors);
    }

    /// <summary>A store over tensors already on the backend (tests, converted weights).</summary>
    public static WeightStore FromTensors(IBackend backend, string source, string prefix, IReadOnlyDictionary<string, Tensor> tensors) =>
        new(backend, source, prefix, new Dictionary<string, Tensor>(tensors, StringComparer.Ordinal));

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public int[] ShapeOf(string name) => Find(name).Shape;

    /// <summary>A tensor's shape with rank-checked indexing: a file with the right names and wrong ranks is a clear error.</summary>
    public TensorDims DimsOf(string name) => new(Source, Prefix + name, Find(name).Shape);

    /// <summary>The tensor <paramref name="name"/>; throws naming the full key if it is missing.</summary>
    public Tensor Get(string name) => Find(name);

    /// <summary>The tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/>.</summary>
    public Tensor Get(string name, params int[] shape)
    {
        var t = Find(name);
        if (!Shape.Equal(t.Shape, shape))
            throw new ModelFormatException(Source, Prefix + name, $"has shape {Shape.Format(t.Shape)}, expected {Shape.Format(shape)}");
        return t;
    }

    /// <summary>
    /// A linear weight [out, in]. 1×1 convolutions stored as [out, in, 1, 1] (the VAE's attention, conv-style
    /// transformer projections) are accepted and viewed as [out, in], since they act on channels alone.
    /// </summary>
    public Tensor GetLinear(string name, int outFeatures, int inFeatures)
    {
        var t = Find(name);
        if (Shape.Equal(t.Shape, [outFeatures, inFeatures])) return t;
        if (Shape.Equal(t.Shape, [outFeatures, inFeatures, 1, 1])) return TensorScope.Detach(Backend.Reshape(t, outFeatures, inFeatures));
        throw new ModelFormatException(Source, Prefix + name, $"has shape {Shape.Format(t.Shape)}, expected {Shape.Format([outFeatures, inFeatures])} (or a 1×1 convolution)");
    }

    /// <summary>A copy of this store with the named tensors replaced; every name must already exist.</summary>
    public WeightStore With(IReadOnlyDictionary<string, Tensor> replacements)
    {
        var copy = new Dictionary<string, Tensor>(_tensors, StringComparer.Ordinal);
        foreach (var (name, t) in replacements)
        {
            if (!copy.ContainsKey(name)) throw new ArgumentException($"cannot replace '{Prefix + name}': not in {Source}");
            if (!ReferenceEquals(t.Backend, Backends.Ledger.RecordingBackend.Unwrap(Backend))) throw new ArgumentException($"replacement for '{Prefix + name}' belongs to another backend");
            copy[name] = t;
        }
        return new WeightStore(Backend, Source, Prefix, copy);
    }

    private Tensor Find(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new ModelFormatException(Source, Prefix + name, "missing");
}
