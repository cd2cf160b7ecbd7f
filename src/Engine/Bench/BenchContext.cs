using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Backends.Ledger;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Models.Vae;

namespace LayerDiffusion.Native.Bench;

/// <summary>What a bench run measures at: image sizes (width × height), UNet batches, the generation's steps and method.</summary>
public sealed record BenchSettings
{
    public required IReadOnlyList<(int Width, int Height)> Sizes { get; init; }
    public required IReadOnlyList<int> Batches { get; init; }
    public int Steps { get; init; } = 20;
    public Pipelines.LayerMethod Method { get; init; } = Pipelines.LayerMethod.Attn;
    /// <summary>The storage dtype the backend computes in, as reported ("fp16", "fp32").</summary>
    public required string DType { get; init; }
}

/// <summary>
/// Shared state of one bench run: the backend, the runner, the files, and the networks, each loaded once on first
/// use (the load component measures loading separately) and freed at the end.
/// </summary>
public sealed class BenchContext(IBackend backend, BenchRunner runner, BenchModelFiles files, BenchSettings settings, TextWriter log) : IDisposable
{
    private readonly List<SafeTensorsFile> _open = new();
    private SafeTensorsFile? _checkpoint;
    private SdxlUnet? _unet;
    private SdxlVae? _vae;
    private TextConditioner? _text;
    private (TransparentDecoder Net, WeightStore Weights)? _decoder;
    private (TransparentEncoder Net, WeightStore Weights)? _encoder;
    private ulong _inputSeed = 1;

    public IBackend Backend => backend;
    public BenchRunner Runner => runner;
    public BenchModelFiles Files => files;
    public BenchSettings Settings => settings;
    public TextWriter Log => log;
    /// <summary>Components that could not run here, with the reason (reported beside the table).</summary>
    public List<(string Component, string Why)> Skipped { get; } = new();

    public SafeTensorsFile Checkpoint => _checkpoint ??= Open(files.Checkpoint);

    public SafeTensorsFile Open(string path)
    {
        var f = SafeTensorsFile.Open(path);
        _open.Add(f);
        return f;
    }

    public SdxlUnet Unet => _unet ??= SdxlUnet.Load(backend, Checkpoint);

    /// <summary>
    /// Where the VAE, transparent decoder and encoder run: the same backend the pipeline puts them on
    /// (<see cref="NetworkPrecision"/>: an fp32 sibling beside an fp16 GPU backend), so their numbers are the ones a
    /// generation sees.
    /// </summary>
    public IBackend VaeBackend => NetworkPrecision.ForVae(backend);

    /// <summary>The dtype the VAE-family networks compute in, as reported.</summary>
    public string VaeDType => RecordingBackend.Unwrap(VaeBackend) is Backends.Cuda.CudaBackend cuda ? cuda.Precision.ToString().ToLowerInvariant() : settings.DType;

    public SdxlVae Vae => _vae ??= SdxlVae.Load(VaeBackend, Checkpoint);
    public TextConditioner Text => _text ??= TextConditioner.Load(backend, Checkpoint, Models.ModelFamily.Detect(Checkpoint),
        files.Tokenizer ?? throw new LdException("no tokenizer (pass --tokenizer)"));

    public TransparentDecoder Decoder => (_decoder ??= LoadDecoder()).Net;
    public TransparentEncoder Encoder => (_encoder ??= LoadEncoder()).Net;

    private (TransparentDecoder, WeightStore) LoadDecoder()
    {
        var w = WeightStore.Load(VaeBackend, Open(files.Decoder ?? throw new LdException("no transparent decoder")), "");
        return (new TransparentDecoder(w), w);
    }

    private (TransparentEncoder, WeightStore) LoadEncoder()
    {
        var w = WeightStore.Load(VaeBackend, Open(files.Encoder ?? throw new LdException("no transparent encoder")), "");
        return (new TransparentEncoder(w), w);
    }

    /// <summary>
    /// Waits for queued device work. A backend with diagnostics synchronises inside its own timing and the CPU runs
    /// synchronously; any other GPU backend queues work on one stream, so a one-element round trip waits for it.
    /// </summary>
    public void Sync()
    {
        if (RecordingBackend.Unwrap(backend) is IBackendDiagnostics or CpuBackend) return;
        using var one = backend.FromHost([0f], 1);
        backend.ToHost(one);
    }

    /// <summary>Ends a timed piece of work on its result: waits for it (see <see cref="Sync"/>), then disposes it.</summary>
    public void Finish(Tensor y)
    {
        using (y) Sync();
    }

    /// <summary>Times VAE-family work on the backend it runs on (its own stream and events).</summary>
    public BenchRecord MeasureVae(string name, BenchParams parameters, Action work) =>
        runner.Measure(name, parameters, VaeDType, work, timedOn: VaeBackend);

    /// <summary>A deterministic input tensor, uniform in [lo, hi) (each call draws a new stream).</summary>
    public Tensor Input(float lo, float hi, params int[] shape) => InputOn(backend, lo, hi, shape);

    /// <summary>The same, on the VAE-family networks' backend.</summary>
    public Tensor VaeInput(float lo, float hi, params int[] shape) => InputOn(VaeBackend, lo, hi, shape);

    private Tensor InputOn(IBackend on, float lo, float hi, int[] shape)
    {
        var v = new float[Shape.Size(shape)];
        ulong s = 0x9E3779B97F4A7C15UL * _inputSeed++;
        for (int i = 0; i < v.Length; i++)
        {
            s = s * 6364136223846793005UL + 1442695040888963407UL;
            v[i] = lo + (hi - lo) * (float)((s >> 40) / 16777216.0);
        }
        return on.FromHost(v, shape);
    }

    /// <summary>Frees every tensor of a store (the backends free device memory on dispose; the CPU's arrays are left to the GC).</summary>
    public static void Free(WeightStore store)
    {
        foreach (var name in store.Names) store.Get(name).Dispose();
    }

    /// <summary>Frees the tensors a patched store added over its original (the rest are shared with the original).</summary>
    public static void FreeReplacements(WeightStore patched, WeightStore original)
    {
        foreach (var name in patched.Names)
            if (!original.Has(name) || !ReferenceEquals(patched.Get(name), original.Get(name))) patched.Get(name).Dispose();
    }

    /// <summary>Frees every loaded network not in <paramref name="keep"/> (so each phase's peak holds only what it uses).</summary>
    public void Release(BenchNeeds keep)
    {
        if (!keep.HasFlag(BenchNeeds.Text) && _text is not null) { _text.Dispose(); _text = null; }
        if (!keep.HasFlag(BenchNeeds.Unet) && _unet is not null) { Free(_unet.Weights); _unet = null; }
        if (!keep.HasFlag(BenchNeeds.Vae) && _vae is not null) { Free(_vae.Weights); _vae = null; }
        if (!keep.HasFlag(BenchNeeds.Decoder) && _decoder is { } d) { Free(d.Weights); _decoder = null; }
        if (!keep.HasFlag(BenchNeeds.Encoder) && _encoder is { } e) { Free(e.Weights); _encoder = null; }
    }

    public void Dispose()
    {
        Release(BenchNeeds.None);
        foreach (var f in _open) f.Dispose();
        _open.Clear();
    }
}
