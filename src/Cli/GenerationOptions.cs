using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Lora;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Cli;

/// <summary>The options `generate`, `layer` and `img2img` share, parsed and validated into settings and model paths.</summary>
public static class GenerationOptions
{
    public static GenerationSettings Settings(ArgParser p, LayerMethod method, bool demo) => new()
    {
        Prompt = Text(p, "--prompt"),
        Negative = Text(p, "--negative"),
        Steps = p.Int("--steps"),
        Cfg = (float)p.Double("--cfg"),
        Sampler = p.Value("--sampler"),
        Schedule = Schedule(p),
        Seed = Seed(p),
        Rng = p.Value("--rng"),
        Width = p.Int("--width"),
        Height = p.Int("--height"),
        // SD1.5 attention sharing: --batch counts groups of frames, the sampler's batch is every frame of them.
        Batch = p.Int("--batch") * LayerMethods.FrameCount(method),
        FgPrompt = p.Get("--fg-prompt", ""),
        BgPrompt = p.Get("--bg-prompt", ""),
        BlendPrompt = p.Get("--blend-prompt", ""),
        BatchCount = p.Int("--batch-count"),
        Method = method,
        Weight = (float)p.Double("--weight"),
        StopAt = (float)p.Double("--stop-at"),
        VaeTile = p.Int("--vae-tile"),
        DecoderBatch = p.Int("--decoder-batch"),
    };

    /// <summary>A text option's value as given, else its declared default without the quotes it is shown in (`""`).</summary>
    private static string Text(ArgParser p, string option) => p.Get(option) ?? p.Value(option).Trim('"');

    /// <summary>Forge's "random seed" for --seed -1 (modules/processing.py get_fixed_seed: randrange(4294967294)).</summary>
    public const long RandomSeedLimit = 4294967294;

    /// <summary>--seed: 0 … <see cref="GenerationSettings.MaxSeed"/>, or −1 for a random one (announced on stderr; the
    /// infotext and --json record the seed used).</summary>
    private static long Seed(ArgParser p)
    {
        long seed = p.Long("--seed");
        if (seed != -1) return seed;
        seed = System.Random.Shared.NextInt64(RandomSeedLimit);
        CliLog.For(p).Notes.WriteLine($"--seed -1: using seed {seed}");
        return seed;
    }

    /// <summary>
    /// --schedule, checked against a schedule named in --sampler ("DPM++ 2M SDE Karras"): as in Forge's
    /// get_sampler_and_scheduler the sampler name's schedule wins, and the loser is reported instead of dropped.
    /// </summary>
    private static string? Schedule(ArgParser p)
    {
        string? schedule = p.Get("--schedule");
        if (schedule is null || p.Get("--sampler") is not { } sampler) return schedule;
        var choice = Sampling.SamplerChoice.Parse(sampler, schedule);
        if (choice.IgnoredSchedule is { } ignored)
            CliLog.For(p).Notes.WriteLine($"--schedule {ignored} ignored: --sampler \"{sampler}\" names the {Sampling.ScheduleNames.ForgeLabel(choice.Schedule)} schedule, which wins as in Forge");
        return schedule;
    }

    /// <summary>Model files: the demo's, or the user's (checkpoint, tokenizer, and the LayerDiffusion files by option or --models-dir).</summary>
    public static (ModelPaths Paths, ITokenizer Tokenizer) Models(ArgParser p, LayerMethod method, bool demo)
    {
        var (paths, tokenizer) = ModelFiles(p, method, demo);
        return (paths, LoadTokenizer(tokenizer));
    }

    /// <summary>
    /// Where the model files are, checked to exist but not yet read, and the tokenizer path (null for the demo's
    /// built-in tokenizer); commands declare them as inputs before any work.
    /// </summary>
    public static (ModelPaths Paths, string? Tokenizer) ModelFiles(ArgParser p, LayerMethod method, bool demo)
    {
        if (demo)
        {
            foreach (var o in new[] { "--model", "--layer-model", "--transparent-decoder", "--transparent-encoder", "--tokenizer", "--models-dir" })
                if (p.Has(o)) throw new InvalidOptionException(o, "cannot be combined with --demo (the demo brings its own models)");
            var files = DemoModels.Ensure(DemoModels.DefaultDir);
            return (new ModelPaths { Checkpoint = files.Checkpoint, LayerModel = files.PatchFor(method), TransparentDecoder = files.Decoder, TransparentEncoder = files.Encoder }, null);
        }
        // The demo has only the attention LoRA and no transparent encoder: it stands in for `ld generate --method attn` alone.
        bool demoCovers = p.Command == "generate" && method == LayerMethod.Attn;
        string model = p.Get("--model") ?? throw new InvalidOptionException("--model",
            "is required (an SDXL .safetensors checkpoint)" + (demoCovers ? ", or use --demo" : $"; the built-in demo model does not cover {p.Command}" +
                (p.Command == "generate" ? $" --method {LayerMethods.Name(method)}" : "")));
        string tokenizer = p.Get("--tokenizer") ?? throw new InvalidOptionException("--tokenizer",
            "is required: a diffusers tokenizer folder, vocab.json + merges.txt folder, or bpe_simple_vocab_16e6.txt.gz");
        var paths = new ModelPaths
        {
            Checkpoint = MustExist("--model", model),
            LayerModel = OptionalFile(p, "--layer-model"),
            TransparentDecoder = OptionalFile(p, "--transparent-decoder"),
            TransparentEncoder = OptionalFile(p, "--transparent-encoder"),
        }.WithModelsDir(p.Get("--models-dir"), method);
        return (paths, tokenizer);
    }

    /// <summary>
    /// The run's user LoRAs: each `&lt;lora:NAME:WEIGHT&gt;` of the prompt (NAME.safetensors under --lora-dir, searched
    /// in subfolders as A1111 does), then each --lora PATH[:WEIGHT]; and the prompt with the tags removed, which is
    /// what the text encoders see. Every file is checked to be a kohya LoRA before anything loads.
    /// </summary>
    public static (IReadOnlyList<UserLora> Loras, string Prompt) Loras(ArgParser p, string prompt)
    {
        var (text, tags) = PromptLoras.Extract(prompt);
        var loras = new List<UserLora>();
        string? dir = p.Get("--lora-dir");
        if (dir is not null && !Directory.Exists(dir)) throw new InvalidOptionException("--lora-dir", $"{dir}: no such folder");
        foreach (var tag in tags)
        {
            if (dir is null) throw new InvalidOptionException("--prompt", $"<lora:{tag.Name}>: pass --lora-dir DIR (the folder holding {tag.Name}.safetensors), or give the file with --lora PATH:WEIGHT");
            loras.Add(new UserLora(FindLora(dir, tag.Name) ?? throw new InvalidOptionException("--prompt", $"<lora:{tag.Name}>: no {tag.Name}.safetensors under --lora-dir {dir}"),
                tag.Name, tag.Weight, tag.TextWeight));
        }
        foreach (var value in p.GetAll("--lora"))
        {
            var (path, weight) = LoraValue(value);
            loras.Add(new UserLora(MustExist("--lora", path), Path.GetFileNameWithoutExtension(path), weight, weight));
        }
        foreach (var lora in loras)
        {
            using var f = SafeTensorsFile.Open(lora.Path);
            var kind = ModelFileKinds.Classify(f);
            if (kind.Kind != ModelFileKind.KohyaLora)
                throw new InvalidOptionException(p.GetAll("--lora").Any(v => v.StartsWith(lora.Path, StringComparison.Ordinal)) ? "--lora" : "--prompt",
                    $"{lora.Path}: is {kind.Description}, not a kohya/A1111 LoRA (lora_unet_*/lora_te*_* with lora_down, lora_up, alpha)");
        }
        return (loras, text);
    }

    /// <summary>
    /// A &lt;lora:NAME&gt; tag's file: NAME.safetensors in <paramref name="dir"/>, else the first in its subfolders (as A1111
    /// searches); null if none. A NAME with a folder part that does not exist ("sub/style") finds none rather than
    /// throwing, so the caller names the tag (and a batch line's settings hash does not stop the whole batch).
    /// </summary>
    public static string? FindLora(string dir, string name)
    {
        string file = name + ".safetensors";
        if (File.Exists(Path.Combine(dir, file))) return Path.Combine(dir, file);
        try
        {
            return Directory.EnumerateFiles(dir, file, SearchOption.AllDirectories).FirstOrDefault();
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>--lora PATH[:WEIGHT]: the weight is what follows the last colon when it is a number (a Windows drive colon is not); 1 without.</summary>
    public static (string Path, float Weight) LoraValue(string value)
    {
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !float.TryParse(value[(colon + 1)..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float w))
            return (value, 1f);
        if (!float.IsFinite(w)) throw new InvalidOptionException("--lora", $"{value}: the weight is not a finite number");
        return (value[..colon], w);
    }

    /// <summary>
    /// Forge's "Lora hashes": NAME: the first 12 hex digits of the file's addnet hash (SHA-256 after the safetensors
    /// header), names stripped of ':' and ','; null without LoRAs.
    /// </summary>
    public static string? LoraHashes(IReadOnlyList<UserLora> loras, FileHashes hashes) => loras.Count == 0 ? null :
        string.Join(", ", loras.Select(l => $"{l.Name.Replace(":", "").Replace(",", "")}: {hashes.AddnetHash(l.Path)[..12]}"));

    /// <summary>
    /// Refuses, before anything loads, a model file of the wrong kind for its option and the method: the attention
    /// LoRA for --method conv, a layer model of another mode, a decoder given as the encoder, and so on.
    /// </summary>
    public static void CheckKinds(ArgParser p, ModelPaths paths, LayerMethod method)
    {
        string Option(string o) => p.Has(o) || !p.Has("--models-dir") ? o : "--models-dir";
        if (paths.LayerModel is { } layer)
        {
            using var f = SafeTensorsFile.Open(layer);
            if (ModelFileKinds.MismatchFor(method, layer, ModelFileKinds.Classify(f)) is { } why)
                throw new InvalidOptionException(Option("--layer-model"), why);
        }
        Expect(Option("--transparent-decoder"), paths.TransparentDecoder, ModelFileKind.TransparentDecoder, LayerMethods.DecoderFile(method));
        Expect(Option("--transparent-encoder"), paths.TransparentEncoder, ModelFileKind.TransparentEncoder, LayerMethods.EncoderFile(method));
    }

    private static void Expect(string option, string? path, ModelFileKind kind, string released)
    {
        if (path is null) return;
        using var f = SafeTensorsFile.Open(path);
        var found = ModelFileKinds.Classify(f);
        if (found.Kind != kind) throw new InvalidOptionException(option, $"{path}: is {found.Description}, not the {released} this option takes");
    }

    /// <summary>The tokenizer at a path from <see cref="ModelFiles"/> (null: the demo's byte-level tokenizer).</summary>
    public static ITokenizer LoadTokenizer(string? path) => path is null ? DemoModels.Tokenizer() : ClipTokenizer.Load(path);

    /// <summary>Every model file of a run as an input of its plan, under the option that named it.</summary>
    public static void DeclareInputs(IO.Outputs.OutputPlan plan, ArgParser p, ModelPaths paths, string? tokenizer)
    {
        string Option(string o) => p.Has(o) || !p.Has("--models-dir") ? o : "--models-dir";
        plan.Input(p.Has("--demo") ? "--demo" : "--model", paths.Checkpoint)
            .Input(Option("--layer-model"), paths.LayerModel)
            .Input(Option("--transparent-decoder"), paths.TransparentDecoder)
            .Input(Option("--transparent-encoder"), paths.TransparentEncoder);
        foreach (var lora in paths.Loras) plan.Input("--lora", lora.Path);
        if (tokenizer is not null) plan.Inputs("--tokenizer", ClipTokenizer.FilesOf(tokenizer));
    }

    private static string? OptionalFile(ArgParser p, string option) => p.Get(option) is { } v ? MustExist(option, v) : null;

    private static string MustExist(string option, string path) =>
        File.Exists(path) ? path : throw new InvalidOptionException(option, $"{path}: file not found") { Kind = ErrorKind.FileAccess };
}
