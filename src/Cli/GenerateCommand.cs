using System.Text.Json;
using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `ld generate` (transparent text-to-image, --method attn|conv), `ld layer --mode fg2ble|bg2ble|fgble2bg|bgble2fg`
/// and `ld img2img --init RGBA.png --denoise S` (transparent img2img, --method attn|conv).
/// Writes PNGs with A1111 infotext only after the whole batch succeeded: Ctrl-C leaves nothing half-written
/// (--preview-every previews are progress, written as sampling goes).
/// </summary>
public static class GenerateCommand
{
    public static int Generate(string[] args) => Run("generate", args);
    public static int Layer(string[] args) => Run("layer", args);
    public static int Img2Img(string[] args) => Run("img2img", args);

    /// <summary>A1111's default denoising strength.</summary>
    public const double DefaultDenoise = 0.75;

    private static int Run(string command, string[] args)
    {
        string[] extra = command switch
        {
            "layer" => ["--mode", "--fg", "--bg", "--blend"],
            "img2img" => ["--method", "--init", "--denoise"],
            _ => ["--method"],
        };
        bool img2img = command == "img2img";
        var p = new ArgParser(command, args, [.. GenerationOptions.ValueOptions, .. extra], GenerationOptions.Flags);
        if (p.Flag("--help")) { Help(command); return CommandLine.ExitOk; }
        if (p.Positional.Count > 0) throw new InvalidOptionException(p.Positional[0], $"unexpected argument for '{command}'");
        bool demo = p.Flag("--demo");
        var method = command == "layer"
            ? LayerMethods.Parse("--mode", p.Get("--mode") ?? throw new InvalidOptionException("--mode", "is required: fg2ble, bg2ble, fgble2bg or bgble2fg"))
            : LayerMethods.Parse("--method", p.Get("--method", "attn"));
        if (command == "layer" && method is LayerMethod.Attn or LayerMethod.Conv)
            throw new InvalidOptionException("--mode", "attn and conv are `ld generate --method`; layer modes are fg2ble, bg2ble, fgble2bg, bgble2fg");
        if (demo && method != LayerMethod.Attn) throw new InvalidOptionException("--demo", "the demo model has only the attention LoRA (method attn)");
        if (demo && img2img) throw new InvalidOptionException("--demo", "the demo model has no transparent encoder, which img2img needs; pass real model files");
        var settings = GenerationOptions.Settings(p, method, demo);
        if (img2img) settings = settings with { Denoise = p.Double("--denoise", DefaultDenoise, 0, 1, minExclusive: true) };
        settings.Validate();
        SamplerSettings.Parse(settings.Sampler, settings.Schedule, settings.Steps);
        if (img2img) TransparentImg2Img.Validate(settings);
        int previewEvery = p.Int("--preview-every", 0, 1, 10000);
        var inputs = new GenerationInputs
        {
            Foreground = LoadImage(p, "--fg"),
            Background = LoadImage(p, "--bg"),
            Blend = LoadImage(p, "--blend"),
            Init = img2img ? LoadInit(p) : null,
            ResizeMode = p.Get("--resize-mode") is { } rm ? Imaging.ResizeModes.Parse(rm) : Imaging.ResizeMode.CropAndResize,
        };
        LayerPipeline.ConditionImages(method, inputs); // a missing condition image fails here, before any model loads
        string output = CheckOutput(p.Get("--out", demo ? "demo.png" : "out.png"));

        var (paths, tokenizer) = GenerationOptions.Models(p, method, demo);
        var precision = PrecisionMode.ParseOrAuto(p.Get("--precision"));
        using var backend = DeviceSelection.Create(p.Get("--device", "auto"), precision, Console.Error);
        if (demo) Console.Error.WriteLine("demo: built-in tiny model with RANDOM weights (no download); the picture is noise, the pipeline is real");
        using var models = new ModelBundle(backend, paths, tokenizer);
        var progress = new ProgressReporter(p.Flag("--quiet"));
        var previews = previewEvery > 0 ? new PreviewWriter(models.Family.Preview, output, previewEvery, settings.Batch, settings.Height / 8, settings.Width / 8) : null;
        var pipeline = new LayerPipeline(models)
        {
            StepCallback = previews is null ? progress.Step : step => { progress.Step(step); previews.Step(step); },
            ReleaseTextEncoders = backend is not Backends.Cpu.CpuBackend,
            ReleaseUnetsAfterSampling = backend is not Backends.Cpu.CpuBackend,
        };

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        GenerationResult result;
        try
        {
            result = pipeline.Run(settings, inputs, cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"ld {command}: cancelled; nothing was written");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        var written = WriteOutputs(output, p.Flag("--vis"), settings, models.ModelName, result, img2img);
        if (previews is not null) written.AddRange(previews.Written);
        if (p.Get("--save-latent") is { } latentPath) SaveLatent(latentPath, result);
        if (p.Get("--json") is { } jsonPath) WriteJson(jsonPath, settings, result, written, backend);
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

    /// <summary>--out: a .png name in an existing folder (checked before any work is done).</summary>
    internal static string CheckOutput(string output)
    {
        if (!output.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new InvalidOptionException("--out", $"{output}: the output is a PNG file; end the name with .png");
        string? outDir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (outDir is not null && !Directory.Exists(outDir)) throw new InvalidOptionException("--out", $"{outDir}: no such folder");
        return output;
    }

    private static RgbaImage? LoadImage(ArgParser p, string option) => p.Get(option) is { } path ? RgbaImage.FromPng(ReadPng(option, path)) : null;

    /// <summary>A PNG named by an option; a missing or unreadable file is an error naming the option and the file.</summary>
    internal static PngImage ReadPng(string option, string path)
    {
        if (!File.Exists(path)) throw new InvalidOptionException(option, $"{path}: file not found");
        try
        {
            return PngReader.Read(path);
        }
        catch (PngFormatException e)
        {
            throw new InvalidOptionException(option, e.Message);
        }
    }

    /// <summary>img2img's init image: required, and an RGBA (or grey + alpha) PNG, since its alpha is what gets encoded.</summary>
    private static RgbaImage LoadInit(ArgParser p)
    {
        string path = p.Get("--init") ?? throw new InvalidOptionException("--init", "is required: the RGBA PNG to start from");
        var png = ReadPng("--init", path);
        if (!png.HasAlpha)
            throw new InvalidOptionException("--init", $"{path}: has no alpha channel ({png.Channels} channels); transparent img2img needs an RGBA PNG");
        return RgbaImage.FromPng(png);
    }

    internal static List<string> WriteOutputs(string output, bool vis, GenerationSettings s, string modelName, GenerationResult result,
        bool img2img = false)
    {
        var files = new List<string>();
        string stem = output[..^4];
        for (int i = 0; i < result.Images.Count; i++)
        {
            var img = result.Images[i];
            string name = result.Images.Count == 1 ? output : $"{stem}-{i}.png";
            var text = new[] { new KeyValuePair<string, string>("parameters", InfotextFor(s, modelName, img.Seed, img2img)) };
            if (img.Rgba is not null) PngWriter.Write(name, img.Rgba, result.Width, result.Height, 4, text);
            else PngWriter.Write(name, img.Rgb, result.Width, result.Height, 3, text);
            files.Add(name);
            if (vis && img.Preview is not null)
            {
                string visName = name[..^4] + "_vis.png";
                PngWriter.Write(visName, img.Preview, result.Width, result.Height, 3, text);
                files.Add(visName);
            }
        }
        return files;
    }

    /// <param name="img2img">Adds A1111's "Denoising strength" (img2img runs only).</param>
    public static string InfotextFor(GenerationSettings s, string modelName, long seed, bool img2img = false)
    {
        var choice = SamplerSettings.Parse(s.Sampler, s.Schedule, s.Steps);
        var pars = new List<KeyValuePair<string, string>>
        {
            new("Steps", s.Steps.ToString()),
            new("Sampler", SamplerDisplay.Name(choice.Sampler)),
            new("Schedule type", SamplerDisplay.Name(choice.Schedule)),
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
        return Infotext.Format(s.Prompt, s.Negative, pars);
    }

    /// <summary>`--save-latent`: tensor `latent` [B, 4, h/8, w/8], the unscaled VAE latent (sampler latent / the family's scale).</summary>
    internal static void SaveLatent(string path, GenerationResult r)
    {
        var unscaled = r.Latent.Select(v => v / r.Family.LatentScale).ToArray();
        int per = unscaled.Length / r.Images.Count;
        new SafeTensorsWriter().Add("latent", [r.Images.Count, per / (r.Height / 8 * (r.Width / 8)), r.Height / 8, r.Width / 8], unscaled).Write(path);
    }

    private static void WriteJson(string path, GenerationSettings s, GenerationResult r, List<string> files, IBackend backend)
    {
        using var fs = File.Create(path);
        using var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("device", backend.Name);
        w.WriteString("commit", BuildInfo.Commit);
        w.WriteNumber("width", s.Width);
        w.WriteNumber("height", s.Height);
        w.WriteNumber("steps", s.Steps);
        w.WriteNumber("seed", s.Seed);
        w.WriteString("method", LayerMethods.Name(s.Method));
        w.WriteStartObject("phase_ms");
        foreach (var (k, v) in r.PhaseMs) w.WriteNumber(k, Math.Round(v, 3));
        w.WriteEndObject();
        if (r.PhasePeakBytes.Count > 0)
        {
            w.WriteStartObject("phase_peak_device_bytes");
            foreach (var (k, v) in r.PhasePeakBytes) w.WriteNumber(k, v);
            w.WriteEndObject();
            w.WriteNumber("peak_device_bytes", r.PeakBytes);
            w.WriteNumber("weights_device_bytes", r.WeightBytes);
            if (r.PeakOverWeights is { } ratio) w.WriteNumber("peak_over_weights", Math.Round(ratio, 4));
        }
        w.WriteNumber("managed_heap_bytes", GC.GetTotalMemory(false));
        w.WriteStartArray("files");
        foreach (var f in files) w.WriteStringValue(f);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Help(string command)
    {
        Console.WriteLine(command switch
        {
            "layer" => "ld layer --mode fg2ble|bg2ble|fgble2bg|bgble2fg --fg/--bg/--blend IMAGE.png --model CKPT --tokenizer TOK --layer-model FILE|--models-dir DIR [options]",
            "img2img" => "ld img2img --init RGBA.png [--denoise (0,1], default 0.75] [--method attn|conv] --model CKPT --tokenizer TOK " +
                "(--layer-model FILE --transparent-decoder FILE --transparent-encoder FILE | --models-dir DIR) [options]",
            _ => "ld generate [--demo] [--method attn|conv] --model CKPT --tokenizer TOK (--layer-model FILE --transparent-decoder FILE | --models-dir DIR) [options]",
        });
        Console.WriteLine("options: --prompt --negative --steps --cfg --sampler --schedule --seed --rng cpu|gpu --width --height --batch");
        Console.WriteLine("         --weight [-1,3] --stop-at [0,1] --device auto|cpu|cuda --precision auto|fp16|bf16|fp32 (auto: fp16 on a GPU, fp32 on the CPU) --out FILE.png --vis");
        Console.WriteLine("         --decoder-batch 0..8 (transparent-decoder passes per call; 0: by free memory)");
        Console.WriteLine("         --save-latent FILE.safetensors --json FILE --quiet --resize-mode crop|resize|fill");
        Console.WriteLine("         --preview-every N (latent previews OUT_preview_stepK.png every N steps)");
    }
}
