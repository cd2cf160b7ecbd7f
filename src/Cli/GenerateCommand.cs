using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
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

    private static int Run(string command, ArgParser p) => Run(command, p, null);

    /// <param name="job">Set when `ld batch` runs this as one of its jobs: models come from (and stay in) its cache,
    /// and the job's record is written in the same transaction as its outputs.</param>
    internal static int Run(string command, ArgParser p, BatchJob? job)
    {
        bool img2img = command == "img2img";
        bool demo = p.Flag("--demo");
        var method = command == "layer"
            ? LayerMethods.Parse("--mode", p.Get("--mode") ?? throw new InvalidOptionException("--mode", "is required: fg2ble, bg2ble, fgble2bg, bgble2fg, sd15-fg2bg or sd15-bg2fg"))
            : LayerMethods.Parse("--method", p.Value("--method"));
        bool layerMode = method is LayerMethod.Fg2Ble or LayerMethod.Bg2Ble or LayerMethod.FgBle2Bg or LayerMethod.BgBle2Fg or LayerMethod.Sd15Fg2Bg or LayerMethod.Sd15Bg2Fg;
        if (command == "layer" && !layerMode)
            throw new InvalidOptionException("--mode", "attn, conv, sd15-attn and sd15-joint are `ld generate --method`; layer modes are fg2ble, bg2ble, fgble2bg, bgble2fg, sd15-fg2bg, sd15-bg2fg");
        if (command == "generate" && layerMode)
            throw new InvalidOptionException("--method", $"{LayerMethods.Name(method)} conditions on an image: use `ld layer --mode {LayerMethods.Name(method)}`");
        if (demo && LayerMethods.IsSd15(method)) throw new InvalidOptionException("--demo", "the demo model is SDXL: it covers attn, conv, fg2ble, bg2ble, fgble2bg, bgble2fg and img2img, not the SD1.5 methods");
        var settings = GenerationOptions.Settings(p, method, demo);
        foreach (var (option, role) in FramePromptOptions.Zip([FrameRole.Foreground, FrameRole.Background, FrameRole.Blend]))
            if (p.Has(option) && !(LayerMethods.HasFramePrompts(method) && LayerMethods.FrameRoles(method).Contains(role)))
                throw new InvalidOptionException(option, $"method {LayerMethods.Name(method)} has no {role.ToString().ToLowerInvariant()} frame with its own prompt (the extension hides this prompt for it)");
        var limits = ImageOptions.Limits(p);
        // Under --demo a missing input image is the demo's own (DemoImages), so every workflow runs with nothing given.
        bool demoSupplies(string option) => demo && (img2img ? option == "--init" : method switch
        {
            LayerMethod.Fg2Ble => option == "--fg",
            LayerMethod.Bg2Ble => option == "--bg",
            LayerMethod.FgBle2Bg => option is "--fg" or "--blend",
            LayerMethod.BgBle2Fg => option is "--bg" or "--blend",
            _ => false,
        });
        string? ImagePath(string option) => p.Get(option) ?? (demoSupplies(option) ? Models.Synthetic.DemoImages.For(option, Models.Synthetic.DemoModels.DefaultDir) : null);
        string? initPath = img2img ? ImagePath("--init") ?? throw new InvalidOptionException("--init", "is required: the image to start from (RGBA for a transparent start)") : null;
        // The init image's header is read first: without --width/--height it sets the size.
        var init = initPath is null ? null : InputImage.Open("--init", initPath, limits);
        if (init is not null) settings = Img2ImgSize(p, settings, init) with { Denoise = p.Double("--denoise") };
        settings.Validate();
        SamplerSettings.Parse(settings.Sampler, settings.Schedule, settings.Steps);
        if (img2img) TransparentImg2Img.Validate(settings);
        int previewEvery = p.Int("--preview-every", 0);
        string output = CheckOutput(p.Value("--out"));
        var (paths, tokenizerPath) = GenerationOptions.ModelFiles(p, method, demo);
        GenerationOptions.CheckKinds(p, paths, method);
        var (loras, encodedPrompt) = GenerationOptions.Loras(p, settings.Prompt);
        paths = paths with { Loras = loras };

        // Every input and output is known now: check the outputs before any work (nothing may overwrite an input).
        var plan = new OutputPlan();
        GenerationOptions.DeclareInputs(plan, p, paths, tokenizerPath);
        foreach (var option in new[] { "--fg", "--bg", "--blend" }) plan.Input(option, ImagePath(option));
        plan.Input("--init", initPath);
        var outputs = new GenerationOutputs(output, settings.Batch * settings.BatchCount);
        bool vis = p.Flag("--vis") && LayerMethods.OutputsTransparent(method);
        outputs.Declare(plan, vis, previewEvery, settings.Steps, p.Get("--save-latent"), p.Get("--json"));
        job?.Declare(plan);
        plan.Check();

        var inputs = new GenerationInputs
        {
            Foreground = LoadImage("--fg", ImagePath("--fg"), limits),
            Background = LoadImage("--bg", ImagePath("--bg"), limits),
            Blend = LoadImage("--blend", ImagePath("--blend"), limits),
            Init = init is null ? null : RgbaImage.FromPng(init.Decode()), // RGB, grey or palette: opaque (alpha 255), as Forge composites it
            ResizeMode = p.Get("--resize-mode") is { } rm ? Imaging.ResizeModes.Parse(rm) : Imaging.ResizeMode.CropAndResize,
        };
        // A missing condition image fails here, before any model loads.
        LayerPipeline.ConditionImages(method, inputs);
        LayerPipeline.ControlImage(settings, inputs);
        var tokenizer = job?.Tokenizer(tokenizerPath) ?? GenerationOptions.LoadTokenizer(tokenizerPath);

        var log = CliLog.For(p);
        var precision = PrecisionMode.ParseOrAuto(p.Get("--precision"));
        using var ownBackend = job is null ? DeviceSelection.Create(p.Value("--device"), precision, log.Notes) : null;
        var backend = ownBackend ?? job!.Backend(p.Value("--device"), precision);
        if (demo) log.Notes.WriteLine("demo: built-in tiny model with RANDOM weights (no download); the picture is noise, the pipeline is real");
        // Refuse a size the machine cannot hold before loading anything (a lower bound from the files' headers).
        var memory = WorkingSetEstimate.For(paths, settings, backend, encodesImages: inputs.Init is not null || LayerMethods.ConcatCount(method) > 0);
        if (job is null) MemoryCheck.Require(memory, settings, backend); else job.CheckMemory(memory, settings, backend);
        GenerationJson.Describe(log.Detail, settings, paths, memory);
        using var ownModels = job is null ? new ModelBundle(backend, paths, tokenizer) : null;
        var models = ownModels ?? job!.Bundle(backend, paths, tokenizerPath, tokenizer);
        var progress = new ProgressReporter(log.Progress);
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
            PhaseCallback = progress.Phase,
        };
        // A batch keeps every network loaded for its next job.
        bool release = job is null && backend is not Backends.Cpu.CpuBackend;

        GenerationResult result;
        try
        {
            // Forge's Batch count: one run per batch; weights stay loaded until the last run.
            // The encoders see the prompt without its <lora:...> tags; the infotext keeps them, as A1111 writes it.
            result = BatchCount.Run(settings with { Prompt = encodedPrompt }, (run, index) =>
            {
                pipeline.ReleaseTextEncoders = pipeline.ReleaseUnetsAfterSampling = release && index == settings.BatchCount - 1;
                if (previews is not null) previews.FirstImage = index * settings.Batch;
                return pipeline.Run(run, inputs, cancel.Token);
            });
        }
        catch (OperationCanceledException)
        {
            return CommandLine.Report(p, command, "cancelled; nothing was written", ExitCodes.Cancelled);
        }

        // Forge's "Model hash": hashed once per checkpoint version, then read from the hash cache.
        var hashes = new FileHashes();
        string modelHash = hashes.ShortHash(paths.Checkpoint);
        var extraParams = GenerationOptions.LoraHashes(loras, hashes) is { } loraHashes ? new[] { new KeyValuePair<string, string>("Lora hashes", loraHashes) } : null;
        // Stage everything, then land it all at once: a failure at any write keeps none of this run's outputs.
        var written = outputs.StageImages(writes, vis, seed => InfotextFor(settings, models.ModelName, seed, img2img, inputs, modelHash, extraParams), result);
        if (previews is not null) written.AddRange(previews.Written);
        string? latentPath = p.Get("--save-latent");
        if (latentPath is not null) GenerationOutputs.StageLatent(writes, latentPath, result);
        // --json -: the JSON alone goes to stdout, after the files have landed (its "files" lists them).
        string? jsonPath = p.Get("--json");
        byte[]? json = jsonPath is null ? null : GenerationJson.Build(new GenerationJson.Run(command, settings, plan, result, written, backend, memory));
        if (jsonPath is not null && jsonPath != GenerationJson.Stdout) writes.Stage(jsonPath, s => s.Write(json));
        // A batch job's record lists every file it lands, so a rerun runs the job again when any of them is gone.
        if (job is not null)
        {
            var landed = written.Concat(new[] { latentPath, jsonPath == GenerationJson.Stdout ? null : jsonPath }.OfType<string>()).ToList();
            job.Stage(writes, landed);
            writes.Commit();
            job.Completed(landed, result);
        }
        else writes.Commit();
        if (jsonPath == GenerationJson.Stdout)
        {
            Console.Out.Write(System.Text.Encoding.UTF8.GetString(json!) + "\n");
            Console.Out.Flush();
        }
        else foreach (var f in written) Console.WriteLine(f);
        if (!log.Jsonl) // jsonl has had a phase event for each
            foreach (var (phase, ms) in result.PhaseMs)
                log.Notes.WriteLine(result.PhasePeakBytes.TryGetValue(phase, out long peak)
                    ? $"phase {phase,-18} {ms,9:F1} ms   peak device memory {peak / 1048576.0,9:F1} MiB"
                    : $"phase {phase,-18} {ms,9:F1} ms");
        if (result.PeakOverWeights is { } ratio)
            log.Notes.WriteLine($"device weights {result.WeightBytes / 1048576.0:F1} MiB, peak {result.PeakBytes / 1048576.0:F1} MiB = {ratio:F2} x the weights");
        return CommandLine.ExitOk;
    }

    /// <summary>--out: a .png name (the folder and collisions with inputs are the output plan's checks).</summary>
    internal static string CheckOutput(string output)
    {
        if (!output.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new InvalidOptionException("--out", $"{output}: the output is a PNG file; end the name with .png");
        return output;
    }

    private static RgbaImage? LoadImage(string option, string? path, ImageLimits limits) =>
        path is not null ? RgbaImage.FromPng(InputImage.Read(option, path, limits)) : null;

    /// <summary>
    /// img2img's size: --width and --height where given, else the init image's (as seen, after its EXIF orientation),
    /// each side rounded down to a multiple of 8 as Forge's img2img "Resize by" 1 does.
    /// </summary>
    private static GenerationSettings Img2ImgSize(ArgParser p, GenerationSettings s, InputImage init)
    {
        if (p.Has("--width") && p.Has("--height")) return s;
        var (w, h) = TransparentImg2Img.SizeFromInit(init.Width, init.Height);
        s = s with { Width = p.Has("--width") ? s.Width : w, Height = p.Has("--height") ? s.Height : h };
        if (Math.Min(s.Width, s.Height) < GenerationSettings.MinSide || Math.Max(s.Width, s.Height) > GenerationSettings.MaxSide)
            throw new InvalidOptionException("--init", $"{init.Path}: is {init.Width}x{init.Height}, which gives a {s.Width}x{s.Height} generation, outside " +
                $"[{GenerationSettings.MinSide}, {GenerationSettings.MaxSide}] per side; pass --width and --height (the image is fitted with --resize-mode)");
        return s;
    }

    /// <summary>SD1.5 attention sharing's additional prompts, one per frame role.</summary>
    private static readonly string[] FramePromptOptions = ["--fg-prompt", "--bg-prompt", "--blend-prompt"];

    /// <param name="img2img">Adds A1111's "Denoising strength" (img2img runs only).</param>
    /// <param name="inputs">The condition images and resize mode, for the extension's layerdiffusion_* keys.</param>
    /// <param name="modelHash">A1111's "Model hash" (the checkpoint's short SHA-256), written before "Model" when known.</param>
    /// <param name="extra">More extra_generation_params ("Lora hashes"), written before the extension's keys (Forge activates extra networks before the extension's sampling hook).</param>
    public static string InfotextFor(GenerationSettings s, string modelName, long seed, bool img2img = false,
        GenerationInputs? inputs = null, string? modelHash = null, IEnumerable<KeyValuePair<string, string>>? extra = null)
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
            new("Version", "LayerDiffusion.Native " + BuildInfo.Commit[..Math.Min(10, BuildInfo.Commit.Length)]),
        };
        if (extra is not null) pars.InsertRange(pars.FindIndex(kv => kv.Key == "Version"), extra);
        pars.InsertRange(pars.FindIndex(kv => kv.Key == "Version"), LayerInfotext.Parameters(s, inputs ?? new GenerationInputs()));
        if (modelHash is not null) pars.Insert(pars.FindIndex(kv => kv.Key == "Model"), new("Model hash", modelHash));
        if (img2img) pars.Insert(pars.FindIndex(kv => kv.Key == "Model") + 1, new("Denoising strength", Infotext.Number(s.Denoise)));
        int version = pars.FindIndex(kv => kv.Key == "Version");
        pars.InsertRange(version < 0 ? pars.Count : version, SamplerDisplay.ScheduleParameters(choice));
        return Infotext.Format(s.Prompt, s.Negative, pars);
    }
}
