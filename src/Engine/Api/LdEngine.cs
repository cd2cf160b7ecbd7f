using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Text;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native;

/// <summary>How an <see cref="LdEngine"/> picks its device and where it says what it picked.</summary>
public sealed record EngineOptions
{
    /// <summary>"auto" (the first usable NVIDIA GPU, else the CPU), "cpu" or "cuda".</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Network precision; null lets the device decide (fp16 on a GPU, fp32 on the CPU).</summary>
    public Precision? Precision { get; init; }
    /// <summary>Receives the engine's informational lines (device choice); null discards them.</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>
/// The engine for embedding: a device and a set of model files, loaded on first use and kept for every later call, so
/// a caller that makes many images pays for loading SDXL and merging the layer model once. One call runs at a time
/// (calls from several threads wait for each other). Dispose frees every weight on the device.
/// </summary>
/// <example>
/// <code>
/// using var engine = LdEngine.CreateDemo();
/// var result = engine.Generate(new GenerationSettings { Prompt = "a glass bottle", Width = 128, Height = 128, Steps = 8 },
///     step => Console.WriteLine($"step {step.Index + 1}/{step.Total}"), cancellationToken);
/// byte[] rgba = result.Images[0].Rgba!;   // Width × Height × 4 bytes, straight alpha
/// </code>
/// </example>
public sealed class LdEngine : IDisposable
{
    private readonly IBackend _backend;
    private readonly ModelBundle _models;
    private readonly Lock _gate = new();
    private bool _disposed;

    private LdEngine(IBackend backend, ModelBundle models, bool isDemo)
    {
        _backend = backend;
        _models = models;
        IsDemo = isDemo;
    }

    /// <summary>
    /// An engine over model files: <see cref="ModelPaths.Checkpoint"/> (an SDXL single-file checkpoint),
    /// <see cref="ModelPaths.Tokenizer"/> (a diffusers tokenizer folder, a folder with vocab.json + merges.txt, or
    /// bpe_simple_vocab_16e6.txt.gz) and the LayerDiffusion files the workflows you run need. Files are checked as
    /// they are first used; a wrong or damaged file throws <see cref="ModelFormatException"/>.
    /// </summary>
    public static LdEngine Create(ModelPaths paths, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (!File.Exists(paths.Checkpoint)) throw new InvalidSettingException("ModelPaths.Checkpoint", $"{paths.Checkpoint}: file not found");
        var tokenizer = paths.Tokenizer is null ? null : ClipTokenizer.Load(paths.Tokenizer);
        return Open(paths, tokenizer, options, isDemo: false);
    }

    /// <summary>
    /// The built-in demo model: tiny, random (deterministic) weights made on first use, no download. Its pictures are
    /// noise with a real alpha channel; it runs the whole transparent text-to-image pipeline (method attn only).
    /// </summary>
    public static LdEngine CreateDemo(EngineOptions? options = null)
    {
        var files = DemoModels.Ensure(DemoModels.DefaultDir);
        var paths = new ModelPaths { Checkpoint = files.Checkpoint, LayerModel = files.AttentionLora, TransparentDecoder = files.Decoder };
        return Open(paths, DemoModels.Tokenizer(), options, isDemo: true);
    }

    private static LdEngine Open(ModelPaths paths, ITokenizer? tokenizer, EngineOptions? options, bool isDemo)
    {
        options ??= new EngineOptions();
        var backend = DeviceSelection.Create(options.Device, options.Precision, options.Log ?? TextWriter.Null);
        try
        {
            return new LdEngine(backend, new ModelBundle(backend, paths, tokenizer), isDemo);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>True for <see cref="CreateDemo"/>'s engine.</summary>
    public bool IsDemo { get; }

    /// <summary>The device the engine runs on, as the CLI prints it ("cpu", "NVIDIA H100 … fp16").</summary>
    public string DeviceName => _backend.Name;

    /// <summary>The model files in use.</summary>
    public ModelPaths Paths => _models.Paths;

    /// <summary>
    /// Transparent text-to-image (<see cref="GenerationSettings.Method"/> attn or conv): one RGBA image per
    /// <see cref="GenerationSettings.Batch"/> × <see cref="GenerationSettings.BatchCount"/>, image i with seed Seed + i.
    /// </summary>
    /// <param name="progress">Called on the calling thread after every sampling step.</param>
    /// <param name="cancel">Checked between steps and phases; a cancelled call throws
    /// <see cref="OperationCanceledException"/> and the engine stays usable.</param>
    /// <exception cref="InvalidSettingException">A setting is out of range or does not fit the loaded models.</exception>
    public GenerationResult Generate(GenerationSettings settings, SamplerCallback? progress = null, CancellationToken cancel = default) =>
        Run(settings, new GenerationInputs(), progress, cancel);

    /// <summary>
    /// Any workflow: the layer modes (<see cref="LayerMethod.Fg2Ble"/> … with <see cref="GenerationInputs.Foreground"/>,
    /// <see cref="GenerationInputs.Background"/>, <see cref="GenerationInputs.Blend"/>) and transparent img2img
    /// (<see cref="GenerationInputs.Init"/> with <see cref="GenerationSettings.Denoise"/>).
    /// </summary>
    public GenerationResult Run(GenerationSettings settings, GenerationInputs inputs, SamplerCallback? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(inputs);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            settings.Validate();
            SamplerSettings.Parse(settings.Sampler, settings.Schedule, settings.Steps);
            if (inputs.Init is not null) TransparentImg2Img.Validate(settings);
            LayerPipeline.ConditionImages(settings.Method, inputs);
            var pipeline = new LayerPipeline(_models) { StepCallback = progress };
            return BatchCount.Run(settings, (run, _) => pipeline.Run(run, inputs, cancel));
        }
    }

    /// <summary>Frees every weight the engine loaded and closes its files.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _models.Dispose();
            _backend.Dispose();
        }
    }
}
