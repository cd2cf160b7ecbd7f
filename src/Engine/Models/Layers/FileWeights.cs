using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Layers;

/// <summary>
/// A <see cref="WeightSource"/> that loads each tensor from a file when a layer asks for it, under a key prefix and
/// through a <see cref="KeyMap"/>, so a network is written against one key naming and files in another layout load
/// unchanged (OpenCLIP's text encoder read with Hugging Face names; its fused in_proj split into q, k and v here).
/// The tensors are freed together by <see cref="DisposeLoaded"/> when the network built from them is done. An optional
/// merge step sees each loaded weight by its canonical name and may replace it (user LoRAs on the text encoders).
/// </summary>
public sealed class FileWeights : WeightSource
{
    private readonly IBackend _backend;
    private readonly SafeTensorsFile _file;
    private readonly string _root;
    private readonly KeyMap _map;
    // Parts of fused tensors split but not yet asked for, by "stored key#part" (shared by every source of one file).
    private readonly Dictionary<string, Tensor> _parts;
    // Everything handed out (shared by every source of one file), for Dispose.
    private readonly List<Tensor> _loaded;
    // Given a canonical name and the loaded tensor, returns the tensor to use (freeing the loaded one if it replaces it).
    private readonly Func<string, Tensor, Tensor>? _merge;

    public FileWeights(IBackend backend, SafeTensorsFile file, string root, KeyMap? map = null, Func<string, Tensor, Tensor>? merge = null)
        : this(backend, file, root, map ?? (k => new KeyLocation(k)), "", new(StringComparer.Ordinal), new(), merge) { }

    private FileWeights(IBackend backend, SafeTensorsFile file, string root, KeyMap map, string prefix, Dictionary<string, Tensor> parts, List<Tensor> loaded,
        Func<string, Tensor, Tensor>? merge)
        : base(prefix)
    {
        _merge = merge;
        _backend = backend;
        _file = file;
        _root = root;
        _map = map;
        _parts = parts;
        _loaded = loaded;
    }

    /// <summary>Frees every tensor this file's sources loaded (the network built from them is done).</summary>
    public void DisposeLoaded()
    {
        foreach (var t in _loaded) t.Dispose();
        foreach (var t in _parts.Values) t.Dispose();
        _loaded.Clear();
        _parts.Clear();
    }

    public override IBackend Backend => _backend;
    public override string Source => _file.Path;
    public SafeTensorsFile File => _file;

    protected override WeightSource At(string prefix) => new FileWeights(_backend, _file, _root, _map, prefix, _parts, _loaded, _merge);

    private KeyLocation Locate(string name) => _map(Prefix + name);
    public override string Key(string name) => _root + Locate(name).Key;

    public override Tensor Get(string name, ParamKind kind, params int[] shape)
    {
        var t = Load(name, shape);
        if (_merge is not null) t = _merge(Prefix + name, t);
        _loaded.Add(t);
        return t;
    }

    private Tensor Load(string name, int[] shape)
    {
        var at = Locate(name);
        var stored = _file.Info(_root + at.Key).Shape; // throws ModelFormatException "missing"
        var want = (int[])shape.Clone();
        want[0] *= at.Parts;
        if (!Shape.Equal(stored, want))
            throw Error(name, $"has shape {Shape.Format(stored)}, expected {Shape.Format(want)}");
        if (at.Parts == 1) return _backend.LoadWeight(_file, _root + at.Key);
        if (_parts.Remove($"{at.Key}#{at.Part}", out var part)) return part;
        // Load the fused tensor once, keep its other parts for their own requests, and free it.
        using var fused = _backend.LoadWeight(_file, _root + at.Key);
        Tensor mine = null!;
        for (int i = 0; i < at.Parts; i++)
        {
            var slice = TensorScope.Detach(_backend.Slice(fused, 0, i * shape[0], shape[0]));
            if (i == at.Part) mine = slice;
            else _parts[$"{at.Key}#{i}"] = slice;
        }
        return mine;
    }

    public override Tensor GetLinear(string name, int outFeatures, int inFeatures, bool storedAsConv)
    {
        var stored = _file.Info(_root + Locate(name).Key).Shape;
        if (stored.Length == 4)
        {
            var view = TensorScope.Detach(_backend.Reshape(Get(name, ParamKind.Weight, outFeatures, inFeatures, 1, 1), outFeatures, inFeatures));
            _loaded.Add(view);
            return view;
        }
        return Get(name, ParamKind.Weight, outFeatures, inFeatures);
    }

    public override bool Has(string name) => _file.Contains(_root + Locate(name).Key);
    public override int[]? ShapeOf(string name)
    {
        var at = Locate(name);
        if (!_file.Contains(_root + at.Key)) return null;
        var s = (int[])_file.Info(_root + at.Key).Shape.Clone();
        s[0] /= at.Parts;
        return s;
    }

    public override void Declare(string name, ParamKind kind, params int[] shape) { }
    public override WeightSource DeclareOnly() => new DeclaredWeights(this, Prefix);
}
