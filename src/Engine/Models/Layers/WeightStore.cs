using LayerDiffusion.Native.IO;

namespace LayerDiffusion.Native.Models.Layers;

/// <summary>
/// The weights of one network (the UNet, the VAE, a text encoder, ...): tensors of a file under one key prefix
/// (<see cref="Root"/>), addressed by their names without it. <see cref="Load"/> uploads every float tensor under the
/// prefix at once; <see cref="Open"/> loads each tensor when a layer asks for it, through a <see cref="KeyMap"/> (a
/// network is written against one key naming, and files in another layout load unchanged: OpenCLIP's text encoder is
/// read with Hugging Face names, its fused in_proj split into q, k and v here) and an optional merge step that sees
/// each loaded weight by its canonical name and may replace it (user LoRAs on the text encoders). Either way a layer
/// gets each tensor with the shape the architecture needs, so a missing or misshaped tensor fails at load naming the
/// file and its full key. <see cref="With"/> makes a copy with some tensors replaced (patched weights) and leaves this
/// one untouched, so the unpatched network stays available ("Stop At" switches back to it exactly).
/// </summary>
public sealed class WeightStore : WeightSource
{
    /// <summary>Where the tensors come from, shared by every view of one store (<see cref="WeightSource.Pp"/>).</summary>
    /// <param name="File">Loads what the store does not hold yet (an opened store); null for a loaded one.</param>
    private sealed record Origin(IBackend Backend, string Source, string Root, SafeTensorsFile? File, KeyMap? Map, Func<string, Tensor, Tensor>? Merge)
    {
        /// <summary>Parts of fused tensors split but not yet asked for, by "stored key#part".</summary>
        public Dictionary<string, Tensor> Parts { get; } = new(StringComparer.Ordinal);
        /// <summary>1×1-convolution weights handed out as linear weights (views), for <see cref="DisposeLoaded"/>.</summary>
        public List<Tensor> Views { get; } = new();
    }

    private readonly Origin _o;
    private readonly Dictionary<string, Tensor> _tensors;

    private WeightStore(Origin origin, Dictionary<string, Tensor> tensors, string prefix = "") : base(prefix)
    {
        _o = origin;
        _tensors = tensors;
    }

    public override IBackend Backend => _o.Backend;
    public override string Source => _o.Source;
    /// <summary>The key prefix of the network in its file (e.g. "model.diffusion_model.").</summary>
    public string Root => _o.Root;
    /// <summary>The file an opened store reads (null for a loaded one).</summary>
    public SafeTensorsFile? File => _o.File;
    /// <summary>The names of the tensors held (for an opened store, those loaded so far).</summary>
    public IReadOnlyCollection<string> Names => _tensors.Keys;

    /// <summary>Loads every float tensor whose key starts with <paramref name="prefix"/>.</summary>
    public static WeightStore Load(IBackend backend, SafeTensorsFile file, string prefix)
    {
        // Integer buffers (position ids and the like) are not weights.
        var tensors = file.Names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && DTypes.IsFloat(file.Info(n).DType))
            .ToDictionary(n => n[prefix.Length..], n => backend.LoadWeight(file, n), StringComparer.Ordinal);
        if (tensors.Count == 0) throw new ModelFormatException(file.Path, null, $"no tensors under '{prefix}'");
        return new WeightStore(new Origin(backend, file.Path, prefix, null, null, null), tensors);
    }

    /// <summary>
    /// The weights under <paramref name="prefix"/>, each loaded when a layer asks for it (through <paramref name="map"/>,
    /// then <paramref name="merge"/>: given a canonical name and the loaded tensor, it returns the tensor to use, freeing
    /// the loaded one if it replaces it). Nothing is loaded until then, so shapes can be read first for free.
    /// </summary>
    public static WeightStore Open(IBackend backend, SafeTensorsFile file, string prefix, KeyMap? map = null, Func<string, Tensor, Tensor>? merge = null) =>
        new(new Origin(backend, file.Path, prefix, file, map, merge), new(StringComparer.Ordinal));

    /// <summary>A store over tensors already on the backend (tests, converted weights).</summary>
    public static WeightStore FromTensors(IBackend backend, string source, string prefix, IReadOnlyDictionary<string, Tensor> tensors) =>
        new(new Origin(backend, source, prefix, null, null, null), new Dictionary<string, Tensor>(tensors, StringComparer.Ordinal));

    protected override WeightSource At(string prefix) => new WeightStore(_o, _tensors, prefix);

    private KeyLocation Locate(string name) => _o.Map?.Invoke(Prefix + name) ?? new KeyLocation(Prefix + name);
    public override string Key(string name) => Root + Locate(name).Key;

    public override int[]? ShapeOf(string name)
    {
        if (_tensors.TryGetValue(Prefix + name, out var t)) return t.Shape;
        var at = Locate(name);
        if (_o.File is not { } file || !file.Contains(Root + at.Key)) return null;
        var s = (int[])file.Info(Root + at.Key).Shape.Clone();
        if (at.Parts > 1 && s.Length > 0) s[0] /= at.Parts;
        return s;
    }

    /// <summary>The tensor <paramref name="name"/>, whatever its shape; throws naming the full key if it is missing.</summary>
    public Tensor Get(string name) => Get(name, ParamKind.Weight, null);

    /// <summary>The tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/> (any shape when null).</summary>
    public override Tensor Get(string name, ParamKind kind, params int[]? shape)
    {
        if (!_tensors.TryGetValue(Prefix + name, out var t))
        {
            if (_o.File is null) throw Error(name, "missing");
            t = LoadFromFile(name, shape ?? ShapeOf(name) ?? throw Error(name, "missing"));
            if (_o.Merge is not null) t = _o.Merge(Prefix + name, t);
            _tensors[Prefix + name] = t;
        }
        if (shape is not null && !Tensors.Shape.Equal(t.Shape, shape))
            throw Error(name, $"has shape {Tensors.Shape.Format(t.Shape)}, expected {Tensors.Shape.Format(shape)}");
        return t;
    }

    /// <summary>Checks the stored shape before anything is read, then loads (a part of a fused tensor: see <see cref="KeyLocation"/>).</summary>
    private Tensor LoadFromFile(string name, int[] shape)
    {
        var at = Locate(name);
        string key = Root + at.Key;
        var file = _o.File!;
        var stored = file.Info(key).Shape; // throws ModelFormatException "missing"
        var want = (int[])shape.Clone();
        if (at.Parts > 1) want[0] *= at.Parts;
        if (!Tensors.Shape.Equal(stored, want))
            throw Error(name, $"has shape {Tensors.Shape.Format(stored)}, expected {Tensors.Shape.Format(want)}");
        if (at.Parts == 1) return Backend.LoadWeight(file, key);
        if (!_o.Parts.ContainsKey($"{at.Key}#{at.Part}"))
        {
            // Load the fused tensor once, keep its parts for their own requests, and free it.
            using var fused = Backend.LoadWeight(file, key);
            for (int i = 0; i < at.Parts; i++) _o.Parts[$"{at.Key}#{i}"] = TensorScope.Detach(Backend.Slice(fused, 0, i * shape[0], shape[0]));
        }
        _o.Parts.Remove($"{at.Key}#{at.Part}", out var part);
        return part!;
    }

    public override Tensor GetLinear(string name, int outFeatures, int inFeatures, bool storedAsConv = false)
    {
        if ((ShapeOf(name) ?? throw Error(name, "missing")).Length != 4) return Get(name, ParamKind.Weight, outFeatures, inFeatures);
        var view = TensorScope.Detach(Backend.Reshape(Get(name, ParamKind.Weight, outFeatures, inFeatures, 1, 1), outFeatures, inFeatures));
        _o.Views.Add(view);
        return view;
    }

    public override WeightSource DeclareOnly() => new LayoutRecorder(null, Root, _o.Map, Prefix);

    /// <summary>A copy of this store with the named tensors replaced; every name must already exist.</summary>
    public WeightStore With(IReadOnlyDictionary<string, Tensor> replacements)
    {
        var copy = new Dictionary<string, Tensor>(_tensors, StringComparer.Ordinal);
        foreach (var (name, t) in replacements)
        {
            if (!copy.ContainsKey(name)) throw new ArgumentException($"cannot replace '{Root + name}': not in {Source}");
            if (!ReferenceEquals(t.Backend, Backends.Ledger.RecordingBackend.Unwrap(Backend))) throw new ArgumentException($"replacement for '{Root + name}' belongs to another backend");
            copy[name] = t;
        }
        return new WeightStore(_o, copy);
    }

    /// <summary>Frees every tensor this store loaded or split (the network built from it is done).</summary>
    public void DisposeLoaded()
    {
        foreach (var t in _tensors.Values.Concat(_o.Parts.Values).Concat(_o.Views)) t.Dispose();
        _tensors.Clear();
        _o.Parts.Clear();
        _o.Views.Clear();
    }
}
