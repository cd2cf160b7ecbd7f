using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Models.Vae;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>Where a run's model files are. Each path is optional until a workflow needs it.</summary>
public sealed record ModelPaths
{
    public required string Checkpoint { get; init; }
    public string? Tokenizer { get; init; }
    /// <summary>The UNet patch file of the chosen method.</summary>
    public string? LayerModel { get; init; }
    public string? TransparentDecoder { get; init; }
    public string? TransparentEncoder { get; init; }

    /// <summary>Fills missing paths from a folder holding the released files under their own names.</summary>
    public ModelPaths WithModelsDir(string? dir, LayerMethod method)
    {
        if (dir is null) return this;
        if (!Directory.Exists(dir)) throw new InvalidOptionException("--models-dir", $"{dir}: no such folder");
        string? Find(string name) => File.Exists(Path.Combine(dir, name)) ? Path.Combine(dir, name) : null;
        return this with
        {
            LayerModel = LayerModel ?? Find(LayerMethods.PatchFileName(method)),
            TransparentDecoder = TransparentDecoder ?? Find(LayerMethods.DecoderFileName),
            TransparentEncoder = TransparentEncoder ?? Find(LayerMethods.EncoderFileName),
        };
    }
}

/// <summary>
/// The networks of one run, loaded on first use from memory-mapped files. The text encoders can be released after
/// encoding; the unpatched UNet is kept beside the patched one so "Stop At" switches back exactly.
/// </summary>
public sealed class ModelBundle : IDisposable
{
    private readonly List<SafeTensorsFile> _files = new();
    private readonly SafeTensorsFile _checkpoint;
    private readonly ITokenizer? _tokenizer;
    private SdxlTextConditioner? _text;
    private SdxlUnet? _unet, _patched;
    private (string Path, float Weight)? _patchedKey;
    private SdxlVae? _vae;
    private TransparentDecoder? _decoder;
    private TransparentEncoder? _encoder;

    public ModelBundle(IBackend backend, ModelPaths paths, ITokenizer? tokenizer)
    {
        Backend = backend;
        Paths = paths;
        _checkpoint = Open(paths.Checkpoint);
        _tokenizer = tokenizer;
    }

    public IBackend Backend { get; }
    /// <summary>Where the VAE, transparent decoder and encoder run (fp32 beside an fp16 GPU backend; see NetworkPrecision).</summary>
    public IBackend VaeBackend => NetworkPrecision.ForVae(Backend);
    public ModelPaths Paths { get; }
    public string ModelName => Path.GetFileNameWithoutExtension(Paths.Checkpoint);

    private SafeTensorsFile Open(string path)
    {
        var f = SafeTensorsFile.Open(path);
        _files.Add(f);
        return f;
    }

    public SdxlTextConditioner Text => _text ??= SdxlTextConditioner.Load(Backend, _checkpoint,
        _tokenizer ?? throw new LdException("no tokenizer: point --tokenizer at a diffusers tokenizer folder, vocab.json + merges.txt, or bpe_simple_vocab_16e6.txt.gz"));

    /// <summary>Frees the text encoders' weights (they are reloaded if needed again).</summary>
    public void ReleaseText()
    {
        _text?.Dispose();
        _text = null;
    }

    public SdxlUnet Unet => _unet ??= SdxlUnet.Load(Backend, _checkpoint);
    public SdxlVae Vae => _vae ??= SdxlVae.Load(VaeBackend, _checkpoint);

    public TransparentDecoder Decoder => _decoder ??= TransparentDecoder.Load(VaeBackend,
        Open(Paths.TransparentDecoder ?? throw new InvalidOptionException("--transparent-decoder", $"this workflow needs the transparent decoder ({LayerMethods.DecoderFileName}); pass --transparent-decoder or --models-dir")));

    public TransparentEncoder Encoder => _encoder ??= TransparentEncoder.Load(VaeBackend,
        Open(Paths.TransparentEncoder ?? throw new InvalidOptionException("--transparent-encoder", $"img2img needs the transparent encoder ({LayerMethods.EncoderFileName}); pass --transparent-encoder or --models-dir")));

    /// <summary>The UNet with the method's patch merged at a weight (cached for repeated runs at the same weight).</summary>
    public SdxlUnet Patched(LayerMethod method, float weight)
    {
        string path = Paths.LayerModel ?? throw new InvalidOptionException("--layer-model",
            $"method {LayerMethods.Name(method)} needs its patch file ({LayerMethods.PatchFileName(method)}); pass --layer-model or --models-dir");
        if (_patched is not null && _patchedKey == (path, weight)) return _patched;
        var patch = PatchFile.Read(Open(path));
        var store = PatchMerger.Apply(Unet.Weights, patch, weight);
        _patched = new SdxlUnet(Unet.Config, store);
        _patchedKey = (path, weight);
        int expected = Unet.InChannels + 4 * LayerMethods.ConcatCount(method);
        if (_patched.InChannels != expected)
            throw new ModelFormatException(path, PatchFile.ModelPrefix + PatchFile.InputConvKey,
                $"gives a UNet with {_patched.InChannels} input channels, but method {LayerMethods.Name(method)} needs {expected} (wrong layer model for this method?)");
        return _patched;
    }

    public void Dispose()
    {
        _text?.Dispose();
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
