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
        Batch = p.Int("--batch"),
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
        long seed = p.Long("--seed", long.Parse(p.Value("--seed"), System.Globalization.CultureInfo.InvariantCulture));
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
            foreach (var o in new[] { "--model", "--layer-model", "--transparent-decoder", "--tokenizer", "--models-dir" })
                if (p.Has(o)) throw new InvalidOptionException(o, "cannot be combined with --demo (the demo brings its own models)");
            var files = DemoModels.Ensure(DemoModels.DefaultDir);
            return (new ModelPaths { Checkpoint = files.Checkpoint, LayerModel = files.AttentionLora, TransparentDecoder = files.Decoder }, null);
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
        if (tokenizer is not null) plan.Inputs("--tokenizer", ClipTokenizer.FilesOf(tokenizer));
    }

    private static string? OptionalFile(ArgParser p, string option) => p.Get(option) is { } v ? MustExist(option, v) : null;

    private static string MustExist(string option, string path) =>
        File.Exists(path) ? path : throw new InvalidOptionException(option, $"{path}: file not found") { Kind = ErrorKind.FileAccess };
}
