using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.IO.Outputs;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Pipelines.Memory;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `ld generate` (transparent text-to-image, --method attn|conv), `ld layer --mode fg2ble|bg2ble|fgble2bg|bgble2fg`
/// and `ld img2img --init RGBA.png --denoise S` (transparent img2img, --method attn|conv).
/// Every output is checked before any work (<see cref="OutputPlan"/>) and written atomically after the whole batch
/// succeeded, all or none: a failure or Ctrl-C leaves nothing of the run behind (--preview-every previews land as
/// sampling goes, and are taken back then).
/// </summary>
public static class GenerateCommand
{
    public static int Generate(ArgParser p) => Run("generate", p);
    public static int Layer(ArgParser p) => Run("layer", p);
    public static int Img2Img(ArgParser p) => Run("img2img", p);

    private static int Run(string command, ArgParser p)
    {
        bool img2img = command == "img2img";
        bool demo = p.Flag("--demo");
        var method = command == "layer"
            ? LayerMethods.Parse("--mode", p.Get("--mode") ?? throw new InvalidOptionException("--mode", "is required: fg2ble, bg2ble, fgble2bg or bgble2fg"))
            : LayerMethods.Parse("--method", p.Value("--method"));
        if (command == "layer" && method is LayerMethod.Attn or LayerMethod.Conv)
            throw new InvalidOptionException("--mode", "attn and conv are `ld generate --method`; layer modes are fg2ble, bg2ble, fgble2bg, bgble2fg");
        if (demo && method != LayerMethod.Attn) throw new InvalidOptionException("--demo", "the demo model has only the attention LoRA (method attn)");
        if (demo && img2img) throw new InvalidOptionException("--demo", "the demo model has no transparent encoder, which img2img needs; pass real model files");
        var settings = GenerationOptions.Settings(p, method, demo);
        if (img2img) settings = settings with { Denoise = p.Double("--denoise") };
        settings.Validate();
        SamplerSettings.Parse(settings.Sampler, settings.Schedule, settings.Steps);
        if (img2img) TransparentImg2Img.Validate(settings);
        int previewEvery = p.Int("--preview-every", 0);
        string? initPath = img2img ? p.Get("--init") ?? throw new InvalidOptionException("--init", "is required: the RGBA PNG to start from") : null;
        string output = CheckOutput(p.Value("--out"));
        var (paths, tokenizerPath) = GenerationOptions.ModelFiles(p, method, demo);

        // Every input and output is known now: check the outputs before any work (nothing may overwrite an input).
        var plan = new OutputPlan();
        GenerationOptions.DeclareInputs(plan, p, paths, tokenizerPath);
        foreach (var option in new[] { "--fg", "--bg", "--blend" }) plan.Input(option, p.Get(option));
        plan.Input("--init", initPath);
        var outputs = new GenerationOutputs(output, settings.Batch * settings.BatchCount);
        bool vis = p.Flag("--vis") && LayerMethods.OutputsTransparent(method);
        outputs.Declare(plan, vis, previewEvery, settings.Steps, p.Get("--save-latent"), p.Get("--json"));
        plan.Check();

        var limits = ImageOptions.Limits(p);
        var inputs = new GenerationInputs
        {
            Foreground = LoadImage(p, "--fg", limits),
            Background = LoadImage(p, "--bg", limits),
            Blend = LoadImage(p, "--blend", limits),
            Init = initPath is null ? null : LoadInit(initPath, limits),
            ResizeMode = p.Get("--resize-mode") is { } rm ? Imaging.ResizeModes.Parse(rm) : Imaging.ResizeMode.CropAndResize,
        };
        LayerPipeline.ConditionImages(method, inputs); // a missing condition image fails here, before any model loads
        var tokenizer = GenerationOptions.LoadTokenizer(tokenizerPath);

        var precision = PrecisionMode.ParseOrAuto(p.Get("--precision"));
        using var backend = DeviceSelection.Create(p.Value("--device"), precision, Console.Error);
        if (demo) Console.Error.WriteLine("demo: built-in tiny model with RANDOM weights (no download); the picture is noise, the pipeline is real");
        // Refuse a size the machine cannot hold before loading anything (a lower bound from the files' headers).
        var memory = WorkingSetEstimate.For(paths, settings, backend, encodesImages: inputs.Init is not null || LayerMethods.ConcatCount(method) > 0);
        MemoryCheck.Require(memory, settings, backend);
        using var models = new ModelBundle(backend, paths, tokenizer);
        var progress = new ProgressReporter(p.Flag("--quiet"));
        // Ctrl-C and SIGTERM stop the run at the next step; the signal stays handled until the outputs have landed
        // or been taken back, so it cannot end the process half-way through the writes.
        using var cancel = new CancellationTokenSource();
        using var signals = CancelSignals.Route(cancel);
        // Disposed without a commit (failure, Ctrl-C), the transaction removes whatever this run had put in place.
        using var writes = plan.BeginWrites();
        var previews = previewEvery > 0 ? new PreviewWriter(models.Family.Preview, outputs, writes, previewEvery, settings.Height / 8, settings.Width / 8) : null;
        var pipeline = new LayerPipeline(models)
        {
            StepCallback = previews is null ? progress.Step : step => { progress.Step(step); previews.Step(step); },
        };
        bool release = backend is not Backends.Cpu.CpuBackend;

        GenerationResult result;
        try
        {
            // Forge's Batch count: one run per batch; weights stay loaded until the last run.
            result = BatchCount.Run(settings, (run, index) =>
            {
                pipeline.ReleaseTextEncoders = pipeline.ReleaseUnetsAfterSampling = release && index == settings.BatchCount - 1;
                if (previews is not null) previews.FirstImage = index * settings.Batch;
                return pipeline.Run(run, inputs, cancel.Token);
            });
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"ld {command}: cancelled; nothing was written");
            return ExitCodes.Cancelled;
        }

        // Stage everything, then land it all at once: a failure at any write keeps none of this run's outputs.
        var written = outputs.StageImages(writes, vis, seed => InfotextFor(settings, models.ModelName, seed, img2img), result);
        if (previews is not null) written.AddRange(previews.Written);
        if (p.Get("--save-latent") is { } latentPath) GenerationOutputs.StageLatent(writes, latentPath, result);
        if (p.Get("--json") is { } jsonPath) GenerationOutputs.StageJson(writes, jsonPath, settings, result, written, backend, memory);
        writes.Commit();
        foreach (var f in written) Console.WriteLine(f);
        if (!p.Flag("--quiet"))
            foreach (var (phase, ms) in result.PhaseMs)
                Console.Error.WriteLine(result.PhasePeakBytes.TryGetValue(phase, out long peak)
                    ? $"phase {phase,-18} {ms,9:F1} ms   peak device memory {peak / 1048576.0,9:F1} MiB"
                    : $"phase {phase,-18} {ms,9:F1} ms");
        if (!p.Flag("--quiet") && result.PeakOverWeights is { } ratio)
            Console.Error.WriteLine($"device weights {result.WeightBytes / 1048576.0:F1} MiB, peak {result.PeakBytes / 1048576.0:F1} MiB = {ratio:F2} x the weights");
        return CommandLine.ExitOk;
    }

    /// <summary>--out: a .png name (the folder and collisions with inputs are the output plan's checks).</summary>
    internal static string CheckOutput(string output)
    {
        if (!output.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new InvalidOptionException("--out", $"{output}: the output is a PNG file; end the name with .png");
        return output;
    }

    private static RgbaImage? LoadImage(ArgParser p, string option, ImageLimits limits) =>
        p.Get(option) is { } path ? RgbaImage.FromPng(InputImage.Read(option, path, limits)) : null;

    /// <summary>img2img's init image: an RGBA (or grey + alpha) PNG, since its alpha is what gets encoded.</summary>
    private static RgbaImage LoadInit(string path, ImageLimits limits)
    {
        var png = InputImage.Read("--init", path, limits);
        if (!png.HasAlpha)
            throw new InvalidOptionException("--init", $"{path}: has no alpha channel ({png.Channels} channels); transparent img2img needs an RGBA PNG");
        return RgbaImage.FromPng(png);
    }

    /// <param name="img2img">Adds A1111's "Denoising strength" (img2img runs only).</param>
    public static string InfotextFor(GenerationSettings s, string modelName, long seed, bool img2img = false)
    {
        SamplerSettings.Parse(s.Sampler, s.Schedule, s.Steps);
        var choice = SamplerChoice.Parse(s.Sampler, s.Schedule);
        var pars = new List<KeyValuePair<string, string>>
        {
            new("Steps", s.Steps.ToString()),
            new("Sampler", SamplerDisplay.Name(choice.Sampler)),
            new("Schedule type", SamplerDisplay.ScheduleType(choice)),
            new("CFG scale", Infotext.Number(s.Cfg)),
            new("Seed", seed.ToString()),
            new("Size", $"{s.Width}x{s.Height}"),
            new("Model", modelName),
            new("RNG", s.Rng == "cpu" ? "CPU" : "GPU"),
            new("layerdiffusion_enabled", "True"),
            new("layerdiffusion_method", LayerMethods.DisplayName(s.Method)),
            new("layerdiffusion_weight", Infotext.Number(s.Weight)),
            new("layerdiffusion_ending_step", Infotext.Number(s.StopAt)),
            new("Version", "LayerDiffusion.Native " + BuildInfo.Commit[..Math.Min(10, BuildInfo.Commit.Length)]),
        };
        if (img2img) pars.Insert(pars.FindIndex(kv => kv.Key == "Model") + 1, new("Denoising strength", Infotext.Number(s.Denoise)));
        int version = pars.FindIndex(kv => kv.Key == "Version");
        pars.InsertRange(version < 0 ? pars.Count : version, SamplerDisplay.ScheduleParameters(choice));
        return Infotext.Format(s.Prompt, s.Negative, pars);
    }
}
