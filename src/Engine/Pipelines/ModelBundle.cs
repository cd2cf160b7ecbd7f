using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Models.Vae;
using LayerDiffusion.Native.Tensors;
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
    /// <summary>User LoRAs merged into the UNet (under the layer model, as Forge stacks them) and the text encoders on load, in order.</summary>
    public IReadOnlyList<Lora.UserLora> Loras { get; init; } = [];

    /// <summary>Value equality, the LoRA list by its items (a long-lived caller reuses loaded models for equal paths).</summary>
    public bool Equals(ModelPaths? other) => other is not null && Checkpoint == other.Checkpoint && Tokenizer == other.Tokenizer &&
        LayerModel == other.LayerModel && TransparentDecoder == other.TransparentDecoder && TransparentEncoder == other.TransparentEncoder &&
        Loras.SequenceEqual(other.Loras);

    public override int GetHashCode() => HashCode.Combine(Checkpoint, Tokenizer, LayerModel, TransparentDecoder, TransparentEncoder, Loras.Count);

    /// <summary>Fills missing paths from a folder holding the released files under their own names.</summary>
    public ModelPaths WithModelsDir(string? dir, LayerMethod method)
    {
        if (dir is null) return this;
        if (!Directory.Exists(dir)) throw new InvalidSettingException("ModelsDir", $"{dir}: no such folder");
        string? Find(string name) => File.Exists(Path.Combine(dir, name)) ? Path.Combine(dir, name) : null;
        return this with
        {
            LayerModel = LayerModel ?? Find(LayerMethods.PatchFileName(method)),
            TransparentDecoder = TransparentDecoder ?? Find(LayerMethods.DecoderFile(method)),
            TransparentEncoder = TransparentEncoder ?? Find(LayerMethods.EncoderFile(method)),
        };
    }
}

/// <summary>
/// The networks of one run, loaded on first use from memory-mapped files. The text encoders can be released after
/// encoding. The patched UNet shares every unpatched tensor with the original; the original's own copies of the
/// patched tensors are kept only when asked (a "Stop At" below 1 switches back to them), otherwise they are freed
/// during the merge and reloaded from the checkpoint if the unpatched UNet is wanted again, so a run holds one copy
/// of the UNet's weights, as Forge does.
/// </summary>
public sealed class ModelBundle : IDisposable
{
    private readonly List<SafeTensorsFile> _files = new();
    private readonly SafeTensorsFile _checkpoint;
    private readonly ITokenizer? _tokenizer;
    private TextConditioner? _text;
    private SdxlUnet? _unet, _patched;
    private (string Path, float Weight)? _patchedKey;
    /// <summary>Set while the original UNet is incomplete: the names it gave up to the patch, and its key prefix.</summary>
    private (HashSet<string> Names, string Prefix)? _released;
    private SdxlVae? _vae;
    private LayerDiffusion.Sd15.AttentionSharingModel? _sharing;
    private TransparentDecoder? _decoder;
    private TransparentEncoder? _encoder;

    public ModelBundle(IBackend backend, ModelPaths paths, ITokenizer? tokenizer)
    {
        Backend = backend;
        Paths = paths;
        _checkpoint = Open(paths.Checkpoint);
        Family = ModelFamily.Detect(_checkpoint);
        _tokenizer = tokenizer;
    }

    public IBackend Backend { get; }
    /// <summary>The checkpoint's model family (SDXL), detected from its keys.</summary>
    public ModelFamily Family { get; }
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

    /// <summary>The family's text encoders with the user LoRAs' text-encoder modules merged in at their TE multipliers.</summary>
    public TextConditioner Text => _text ??= TextConditioner.Load(Backend, _checkpoint, Family,
        new PromptChunker(_tokenizer ?? throw new InvalidSettingException("Tokenizer", "is needed for the prompts: a diffusers tokenizer folder, vocab.json + merges.txt, or bpe_simple_vocab_16e6.txt.gz")),
        Paths.Loras.Select(l => new Lora.TextLora(Open(l.Path), l.TextWeight)).ToList());

    /// <summary>Frees the text encoders' weights (they are reloaded if needed again).</summary>
    public void ReleaseText()
    {
        _text?.Dispose();
        _text = null;
    }

    /// <summary>The unpatched UNet (rebuilt around the patched one's shared tensors if its own copies were freed).</summary>
    public SdxlUnet Unet => _unet ??= RebuildOriginal() ?? LoadUnetWithLoras();

    /// <summary>
    /// The checkpoint's UNet with the user LoRAs merged in (each merge frees the tensors it replaces). This is the
    /// "original" UNet of a run: the layer model is merged on top of it, and Stop At switches back to it, as Forge
    /// clones the LoRA-patched UNet before the extension patches it.
    /// </summary>
    private SdxlUnet LoadUnetWithLoras()
    {
        var unet = SdxlUnet.Load(Backend, _checkpoint, Family);
        foreach (var lora in Paths.Loras)
        {
            var patch = Lora.KohyaLora.UnetPatch(Open(lora.Path), unet.Weights.Names);
            if (patch.Entries.Count > 0) unet = new SdxlUnet(unet.Config, PatchMerger.Apply(unet.Weights, patch, lora.Weight, releaseOriginals: true));
        }
        return unet;
    }
    public SdxlVae Vae => _vae ??= new SdxlVae(Keep(WeightStore.Load(VaeBackend, _checkpoint, Family.VaePrefix)));

    public TransparentDecoder Decoder => _decoder ??= new TransparentDecoder(Keep(WeightStore.Load(VaeBackend,
        Open(Paths.TransparentDecoder ?? throw new InvalidSettingException("TransparentDecoder", $"this workflow needs the transparent decoder ({FamilyFile(LayerMethods.Sd15DecoderFileName, LayerMethods.DecoderFileName)}); give {InvalidSettingException.Ref("TransparentDecoder")} or {InvalidSettingException.Ref("ModelsDir")}")), "")));

    public TransparentEncoder Encoder => _encoder ??= new TransparentEncoder(Keep(WeightStore.Load(VaeBackend,
        Open(Paths.TransparentEncoder ?? throw new InvalidSettingException("TransparentEncoder", $"img2img needs the transparent encoder ({FamilyFile(LayerMethods.Sd15EncoderFileName, LayerMethods.EncoderFileName)}); give {InvalidSettingException.Ref("TransparentEncoder")} or {InvalidSettingException.Ref("ModelsDir")}")), "")));

    /// <summary>The released file name of the checkpoint's family, for error messages.</summary>
    private string FamilyFile(string sd15, string sdxl) => Family == ModelFamily.Sd15 ? sd15 : sdxl;

    /// <summary>The VAE-family weights, freed with the bundle (a long-lived caller, a batch or an embedding
    /// application, loads and frees many bundles in one process).</summary>
    private readonly List<WeightStore> _kept = new();

    private WeightStore Keep(WeightStore store)
    {
        _kept.Add(store);
        return store;
    }

    /// <summary>
    /// The UNet with the method's patch merged at a weight (cached for repeated runs at the same weight). With
    /// <paramref name="keepOriginal"/> false the original's copies of the patched tensors are freed (during the
    /// merge when it happens now), so only one copy of those weights is resident.
    /// </summary>
    public SdxlUnet Patched(LayerMethod method, float weight, bool keepOriginal = true)
    {
        string path = Paths.LayerModel ?? throw new InvalidSettingException("LayerModel",
            $"method {LayerMethods.Name(method)} needs its patch file ({LayerMethods.PatchFileName(method)}); give {InvalidSettingException.Ref("LayerModel")} or {InvalidSettingException.Ref("ModelsDir")}");
        if (_patched is not null && _patchedKey == (path, weight))
        {
            if (!keepOriginal) ReleaseOriginalCopies();
            return _patched;
        }
        var original = Unet;
        FreePatchedCopies(original);
        var patch = PatchFile.Read(Open(path));
        var store = PatchMerger.Apply(original.Weights, patch, weight, releaseOriginals: !keepOriginal);
        var patched = new SdxlUnet(original.Config, store);
        if (!keepOriginal) ForgetOriginal(original, patch);
        _patched = patched;
        _patchedKey = (path, weight);
        int expected = original.InChannels + 4 * LayerMethods.ConcatCount(method);
        if (_patched.InChannels != expected)
            throw new ModelFormatException(path, PatchFile.ModelPrefix + PatchFile.InputConvKey,
                $"gives a UNet with {_patched.InChannels} input channels, but method {LayerMethods.Name(method)} needs {expected} (wrong layer model for this method?)");
        return _patched;
    }

    /// <summary>
    /// The method's SD1.5 attention-sharing file (--layer-model) bound to the unpatched UNet, whose weights stay as
    /// they are: the units hold their own per-frame merged projections.
    /// </summary>
    public LayerDiffusion.Sd15.AttentionSharingModel AttentionSharing(LayerMethod method)
    {
        if (_sharing is not null) return _sharing;
        string path = Paths.LayerModel ?? throw new InvalidOptionException("--layer-model",
            $"method {LayerMethods.Name(method)} needs its attention-sharing file ({LayerMethods.PatchFileName(method)}); pass --layer-model or --models-dir");
        var model = LayerDiffusion.Sd15.AttentionSharingModel.Load(Backend, Open(path), Unet);
        int frames = LayerMethods.FrameCount(method);
        bool control = method is LayerMethod.Sd15Fg2Bg or LayerMethod.Sd15Bg2Fg;
        if (model.Frames != frames || model.UsesControl != control)
        {
            model.Dispose();
            throw new ModelFormatException(path, null, $"is an attention-sharing file of {model.Frames} frames {(model.UsesControl ? "with" : "without")} control; method {LayerMethods.Name(method)} needs {frames} {(control ? "with" : "without")} control (wrong layer model for this method?)");
        }
        return _sharing = model;
    }

    /// <summary>Frees both UNets' weights (the shared tensors once).</summary>
    public void ReleaseUnets()
    {
        _sharing?.Dispose();
        _sharing = null;
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var store in new[] { _patched?.Weights, _unet?.Weights })
            if (store is not null)
                foreach (var name in store.Names)
                    if (seen.Add(store.Get(name))) store.Get(name).Dispose();
        _patched = _unet = null;
        _patchedKey = null;
        _released = null;
    }

    /// <summary>Frees the original's own copies of the tensors the cached patched UNet replaced.</summary>
    private void ReleaseOriginalCopies()
    {
        if (_unet is not { } original || _patched is null) return;
        var names = Replaced(_patched.Weights, original.Weights).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names) original.Weights.Get(name).Dispose();
        _released = (names, original.Weights.Root);
        _unet = null;
    }

    private void ForgetOriginal(SdxlUnet original, PatchFile patch)
    {
        _released = (patch.Entries.Select(e => e.Target).ToHashSet(StringComparer.Ordinal), original.Weights.Root);
        _unet = null;
    }

    /// <summary>The previous patched UNet's own tensors (those not shared with <paramref name="original"/>).</summary>
    private void FreePatchedCopies(SdxlUnet original)
    {
        if (_patched is null) return;
        foreach (var name in Replaced(_patched.Weights, original.Weights)) _patched.Weights.Get(name).Dispose();
        _patched = null;
        _patchedKey = null;
    }

    private static IEnumerable<string> Replaced(WeightStore patched, WeightStore original) =>
        patched.Names.Where(n => !ReferenceEquals(patched.Get(n), original.Get(n)));

    /// <summary>The original UNet again: the patched UNet's shared tensors plus the released ones read from the checkpoint.</summary>
    private SdxlUnet? RebuildOriginal()
    {
        if (_released is not { } released || _patched is not { } patched) return null;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var reloaded = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in released.Names) reloaded[name] = Backend.LoadWeight(_checkpoint, released.Prefix + name);
        // The user LoRAs are part of the original: merged again into the tensors read back from the checkpoint.
        var store = WeightStore.FromTensors(Backend, _checkpoint.Path, released.Prefix, reloaded);
        foreach (var lora in Paths.Loras)
        {
            var patch = Lora.KohyaLora.UnetPatch(Open(lora.Path), patched.Weights.Names).Only(store.Has);
            if (patch.Entries.Count > 0) store = PatchMerger.Apply(store, patch, lora.Weight, releaseOriginals: true);
        }
        foreach (var name in patched.Weights.Names)
            tensors[name] = store.Has(name) ? store.Get(name) : patched.Weights.Get(name);
        _released = null;
        return new SdxlUnet(patched.Config, WeightStore.FromTensors(Backend, _checkpoint.Path, released.Prefix, tensors));
    }

    /// <summary>Frees every network's weights and closes the files.</summary>
    public void Dispose()
    {
        ReleaseText();
        ReleaseUnets();
        foreach (var store in _kept)
            foreach (var name in store.Names) store.Get(name).Dispose();
        _kept.Clear();
        _vae = null;
        _decoder = null;
        _encoder = null;
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
