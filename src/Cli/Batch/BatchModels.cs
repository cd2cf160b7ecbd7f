using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Text;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// The backend, tokenizer and networks a batch keeps between jobs: a job that asks for the same device and precision
/// gets the same backend, and the same model files the same <see cref="ModelBundle"/>, whose loaded networks and
/// merged patch (per layer model and weight) carry over. One model set is held at a time: the first job that names
/// another one frees the previous set, so a file grouped by model loads each set once.
/// </summary>
public sealed class BatchModels : IDisposable
{
    private (string Device, Precision? Precision)? _backendKey;
    private IBackend? _backend;
    private (ModelPaths Paths, string? Tokenizer)? _bundleKey;
    private ModelBundle? _bundle;
    private (string? Path, ITokenizer Tokenizer)? _tokenizer;

    /// <summary>How many model sets were loaded so far (a batch reports it; tests check reuse with it).</summary>
    public int Loads { get; private set; }

    public ITokenizer Tokenizer(string? path)
    {
        if (_tokenizer is { } t && t.Path == path) return t.Tokenizer;
        var loaded = GenerationOptions.LoadTokenizer(path);
        _tokenizer = (path, loaded);
        return loaded;
    }

    public IBackend Backend(string device, Precision? precision)
    {
        if (_backend is not null && _backendKey == (device, precision)) return _backend;
        Reset();
        _backend = DeviceSelection.Create(device, precision, Console.Error);
        _backendKey = (device, precision);
        return _backend;
    }

    public ModelBundle Bundle(IBackend backend, ModelPaths paths, string? tokenizerPath, ITokenizer tokenizer)
    {
        if (!ReferenceEquals(backend, _backend)) throw new InvalidOperationException("a batch's models are bound to the backend it handed out");
        if (_bundle is not null && _bundleKey is { } key && key.Tokenizer == tokenizerPath && SameFiles(key.Paths, paths)) return _bundle;
        _bundle?.Dispose();
        _bundle = null;
        _bundle = new ModelBundle(backend, paths, tokenizer);
        _bundleKey = (paths, tokenizerPath);
        Loads++;
        Console.Error.WriteLine($"batch: model set {Loads}: {paths.Checkpoint}");
        return _bundle;
    }

    /// <summary>The same model files (the record's LoRA list compares by reference, so it is compared item by item).</summary>
    private static bool SameFiles(ModelPaths a, ModelPaths b) =>
        a with { Loras = [] } == b with { Loras = [] } && a.Loras.SequenceEqual(b.Loras);

    /// <summary>Frees everything (after a job failed part-way through the networks, the next job starts clean).</summary>
    public void Reset()
    {
        _bundle?.ReleaseUnets();
        _bundle?.Dispose();
        _bundle = null;
        _bundleKey = null;
        _backend?.Dispose();
        _backend = null;
        _backendKey = null;
    }

    public void Dispose() => Reset();
}
