using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.Pipelines;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// Every option of every `ld` command, declared once: name, short alias, value, description, default, allowed
/// values and the commands that take it. The parser accepts exactly these, `--help` and the README's option table
/// (between the `ld-options` markers; `ld help --update-readme README.md` rewrites it) are generated from them, and
/// tests/Cli/OptionDeclarationTests fails when the README drifts. An option name may appear more than once where
/// commands give it different meanings (`--batch` is a count for `generate` and a list for `bench`), never twice for
/// one command.
/// </summary>
public static class CliOptions
{
    /// <summary>The generation commands, and `batch`, whose command line sets every job's defaults.</summary>
    private static readonly string[] Gen = ["generate", "layer", "img2img", "batch"];
    private static readonly string[] GenDecode = [.. Gen, "decode"];
    private static readonly string[] Measure = ["bench", "profile"];
    private static readonly string[] Devices = ["auto", "cpu", "cuda"];
    private static readonly string[] Precisions = ["auto", "fp16", "bf16", "fp32"];

    private static OptionSpec V(string name, string value, string description, params string[] commands) => new(name, null, value, description, commands);
    private static OptionSpec F(string name, string description, params string[] commands) => new(name, null, null, description, commands);

    public static readonly OptionSpec[] All =
    [
        // Every command.
        F("--help", "show this command's options and exit", CliCommands.Names) with { Short = "-h" },
        F("--version", "print the version and the git commit it was built from, and exit", CliCommands.Names),
        F("--quiet", "print only results and errors (no progress, phases or notes on stderr)", CliCommands.Names) with { Short = "-q" },
        F("--verbose", "say more on stderr: the resolved settings, model files and memory estimate of a generation, and the stack of an internal error", CliCommands.Names) with { Short = "-v" },

        // The models.
        F("--demo", "use the built-in tiny model (random weights, no download; method attn only)", Gen),
        V("--model", "CKPT", "SDXL single-file checkpoint (.safetensors; fp16/bf16/fp32, ldm/sgm keys)", [.. Gen, .. Measure]),
        V("--model", "CKPT", "a checkpoint whose VAE decodes the latent first (instead of --rgb)", "decode"),
        V("--layer-model", "FILE", "the LayerDiffusion patch for the method or mode (layer_xl_*.safetensors)", [.. Gen, "bench"]),
        V("--conv-layer-model", "FILE", "the conv-injection patch (layer_xl_transparent_conv.safetensors) for --method conv", "bench"),
        V("--transparent-decoder", "FILE", "vae_transparent_decoder.safetensors", [.. GenDecode, .. Measure]),
        V("--transparent-encoder", "FILE", "vae_transparent_encoder.safetensors, SD1.5: layer_sd15_vae_transparent_encoder.safetensors (img2img)", [.. Gen, .. Measure]),
        V("--models-dir", "DIR", "a folder holding the released LayerDiffusion files under their names (found by name)", [.. GenDecode, .. Measure]),
        V("--tokenizer", "PATH", "a diffusers tokenizer/ folder, a folder with vocab.json + merges.txt, or bpe_simple_vocab_16e6.txt.gz", [.. Gen, .. Measure]),

        // What to generate.
        V("--prompt", "TEXT", "the prompt", Gen) with { Short = "-p", Default = "\"\"", DemoDefault = "\"a glass bottle, high quality\"" },
        V("--negative", "TEXT", "the negative prompt", Gen) with { Short = "-n", Default = "\"\"", DemoDefault = "\"bad, ugly\"" },
        V("--method", "NAME", "transparency method: SDXL attention-injection LoRA or conv-injection patch; SD1.5 attention or joint (fg, bg, blend) frames", "generate", "batch") with
            { Default = "attn", Choices = ["attn", "conv", "sd15-attn", "sd15-joint"] },
        V("--method", "NAME", "transparency method: SDXL attention-injection LoRA or conv-injection patch; SD1.5 attention injection (one frame)", "img2img") with
            { Default = "attn", Choices = ["attn", "conv", "sd15-attn"] },
        V("--mode", "NAME", "the layer workflow (required)", "layer", "batch") with { Choices = ["fg2ble", "bg2ble", "fgble2bg", "bgble2fg", "sd15-fg2bg", "sd15-bg2fg"] },
        V("--fg", "IMAGE", "the foreground image (fg2ble, fgble2bg)", "layer", "batch"),
        V("--bg", "IMAGE", "the background image (bg2ble, bgble2fg)", "layer", "batch"),
        V("--blend", "IMAGE", "the blended image (fgble2bg, bgble2fg)", "layer", "batch"),
        V("--fg-prompt", "TEXT", "SD1.5 attention sharing: the foreground frame's prompt is 'TEXT, PROMPT' on its positive rows", "generate", "layer", "batch"),
        V("--bg-prompt", "TEXT", "SD1.5 attention sharing: the background frame's own prompt, as --fg-prompt", "generate", "layer", "batch"),
        V("--blend-prompt", "TEXT", "SD1.5 attention sharing: the blended frame's own prompt, as --fg-prompt", "generate", "layer", "batch"),
        V("--lora", "PATH[:WEIGHT]", "a kohya/A1111 LoRA merged into the UNet and the text encoders (repeatable; weight default 1, both)", Gen),
        V("--lora-dir", "DIR", "where <lora:NAME:TE:UNET> tags of the prompt find NAME.safetensors (subfolders searched, as A1111)", Gen),
        V("--init", "IMAGE", "the image to start from (RGBA for a transparent start; required)", "img2img", "batch"),
        V("--denoise", "S", "denoising strength", "img2img", "batch") with { Default = "0.75", Min = 0, Max = 1, MinExclusive = true },
        V("--steps", "N", "sampling steps", Gen) with { Default = "20", DemoDefault = "8", Min = 1, Max = 1000 },
        V("--cfg", "X", "classifier-free guidance scale", Gen) with { Default = "5", Min = 0, Max = 100 },
        V("--sampler", "NAME", "sampler, by our name, Forge's label or alias; may end with a schedule (\"DPM++ 2M SDE Karras\")", Gen) with
            { Default = "euler_a", DemoDefault = "euler", Constraint = "see Samplers and schedules" },
        V("--schedule", "NAME", "sigma schedule (a schedule named in --sampler wins, as in Forge)", Gen) with { Default = "automatic", Constraint = Sampling.ScheduleNames.Valid },
        V("--seed", "N", "seed of the first image (image i gets seed + i); -1 picks a random one", Gen) with
            { Short = "-s", Default = "12345", Min = -1, Max = GenerationSettings.MaxSeed },
        V("--rng", "SOURCE", "Forge's noise source: PyTorch's CPU or CUDA randn, reproduced on any device (any case)", Gen) with { Default = "gpu", Choices = ["cpu", "gpu"] },
        V("--width", "W", "image width", Gen) with { Short = "-W", Default = "1024", DemoDefault = "128", Min = 64, Max = 8192, Constraint = "multiple of 8" },
        V("--height", "H", "image height", Gen) with { Short = "-H", Default = "1024", DemoDefault = "128", Min = 64, Max = 8192, Constraint = "multiple of 8" },
        V("--batch", "N", "images per run (Forge's Batch size; SD1.5 joint/fg2bg/bg2fg: groups of 3/2/2 frames)", Gen) with { Short = "-b", Default = "1", Min = 1, Max = 64 },
        V("--batch-count", "N", "runs, one after another (Forge's Batch count)", Gen) with { Default = "1", Min = 1, Max = GenerationSettings.MaxBatchCount },
        V("--weight", "X", "LayerDiffusion patch weight", Gen) with { Default = "1", Min = -1, Max = 3 },
        V("--stop-at", "X", "fraction of the steps after which the patch is removed", Gen) with { Default = "1", Min = 0, Max = 1 },
        V("--resize-mode", "MODE", "how condition and init images are fitted to the size", Gen) with { Default = "crop", Choices = ["crop", "resize", "fill"] },
        V(ImageLimits.Option, "N", "largest input image in pixels (8192x8192 by default)", GenDecode) with
            { Default = ImageLimits.DefaultMaxPixels.ToString(System.Globalization.CultureInfo.InvariantCulture), Min = 1 },

        // How to run it.
        V("--device", "NAME", "where to run", [.. GenDecode, "verify", .. Measure]) with { Default = "auto", Choices = Devices },
        V("--device", "NAME", "the device whose ops are checked against the CPU reference", "selftest") with { Default = "cuda", Choices = Devices },
        V("--precision", "NAME", "compute precision (auto: fp16 on a GPU, fp32 on the CPU)", [.. GenDecode, .. Measure]) with { Default = "auto", Choices = Precisions },
        V("--precision", "NAME", "precision of the device under test", "verify", "selftest") with { Default = "fp32", Choices = ["fp32", "fp16", "bf16"] },
        V("--vae-tile", "N", "decode the VAE in N-latent-pixel tiles (0: only when device memory is short)", Gen) with { Default = "0", Min = 0, Max = 4096 },
        V("--decoder-batch", "N", "transparent-decoder passes per call (0: by free memory)", Gen) with { Default = "0", Min = 0, Max = 8 },
        V("--progress", "STYLE", "sampler progress on stderr: a redrawn bar, a line per step, one JSON event per step and phase, or none", Gen) with
            { Default = "bar on a terminal, else lines", Choices = ["bar", "lines", "jsonl", "none"] },

        // What to write.
        V("--out", "FILE.png", "the output image (image i of a batch: FILE-i.png)", "generate", "layer", "img2img") with { Short = "-o", Default = "out.png", DemoDefault = "demo.png" },
        V("--out", "FILE.png", "the RGBA output image", "decode") with { Short = "-o", Default = "decoded.png" },
        F("--vis", "also write FILE_vis.png, the image over a checkerboard", GenDecode),
        V("--preview-every", "N", "write latent previews FILE_preview_stepK.png every N steps", Gen) with { Min = 1, Max = 10000 },
        V("--save-latent", "FILE", "write the final latent (tensor 'latent' [B, 4, h/8, w/8], unscaled) as safetensors", Gen),
        V("--json", "FILE", "write the run's settings, files (with sha256) and timings as JSON; - for stdout", Gen),
        V("--json", "FILE", "write the results as JSON", ["selftest", .. Measure]),

        // ld batch's own.
        V("--out-dir", "DIR", "where job outputs go (a job's \"out\" is relative to it; default name line-NNNNN.png)", "batch") with { Default = "." },
        V("--results", "FILE", "one JSON line per job (status, outputs, ms, error)", "batch") with { Default = "DIR/results[.shard-I-of-N].jsonl" },
        V("--shard", "I/N", "run jobs I, I+N, I+2N, ... (default: from SLURM_ARRAY_TASK_ID/COUNT)", "batch"),
        V("--shard-count", "N", "the shard count with a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (its completions)", "batch") with { Min = 1 },

        // ld decode.
        V("--rgb", "IMAGE", "the opaque image the VAE decoded from --latent", "decode"),
        V("--latent", "FILE", "safetensors with tensor 'latent' [1, 4, h/8, w/8] (required; ld generate --save-latent)", "decode"),
        V("--index", "I", "image I of a batch latent", "decode") with { Min = 0 },

        // ld verify.
        V("--golden", "DIR", "the golden data folder", "verify") with { Default = "$LD_GOLDEN_DIR or ../shared/golden" },
        V("--cases", "A,B", "run only these cases", "verify"),

        // ld selftest.
        V("--filter", "A|B", "run only the cases whose names contain one of these", "selftest"),
        V("--exclude", "A|B", "skip the cases whose names contain one of these", "selftest"),
        V("--seed", "N", "seed of the random inputs", "selftest") with { Default = "1234" },
        F("--list", "list the cases and exit", "selftest"),
        F("--kernels", "list the embedded PTX modules and exit (no GPU needed)", "selftest"),
        F("--time", "also time each op (median of 7) and add timing-only cases at SDXL sizes", "selftest"),

        // ld bench and ld profile.
        F("--synthetic", "random weights in the released SDXL shapes (the GPU default)", Measure),
        F("--tiny", "tiny random weights (the CPU default)", Measure),
        F("--list", "list the components and exit", "bench"),
        V("--size", "WxH,...", "sizes to measure", "bench") with { Default = "by weights: 128x128 tiny, 1024x1024 real" },
        V("--batch", "N,...", "batch sizes to measure", "bench") with { Default = "1" },
        V("--steps", "N", "sampling steps of the full-generation component", "bench") with { Default = "20", Min = 1, Max = 1000 },
        V("--method", "NAME", "transparency method measured", "bench") with { Default = "attn", Choices = ["attn", "conv"] },
        V("--width", "W", "width (one side given: square)", "profile") with { Default = "128 tiny, else 1024", Min = 64, Max = 8192, Constraint = "multiple of 8" },
        V("--height", "H", "height (one side given: square)", "profile") with { Default = "128 tiny, else 1024", Min = 64, Max = 8192, Constraint = "multiple of 8" },
        V("--batch", "N", "UNet batch (2 is one CFG step of one image)", "profile") with { Default = "2", Min = 1, Max = 64 },
        V("--components", "A,B", "components to measure (ld bench --list)", "bench") with { Default = "all" },
        V("--components", "A,B", "components to measure (ld bench --list)", "profile") with { Default = ProfileCommand.DefaultComponents },
        V("--warmup", "N", "untimed runs first", Measure) with { Default = "1", Min = 0, Max = 1000 },
        V("--runs", "N", "timed runs", Measure) with { Default = "5", Min = 1, Max = 10000 },
        V("--markdown", "FILE", "write the tables as Markdown", Measure),
        V("--work-dir", "DIR", "where synthetic weights are written once", Measure) with { Default = "$LD_CACHE_DIR or the temp folder's ld-cache" },
        V("--reference", "FILE", "PyTorch results to compare with (ratios)", "bench"),
        V("--results", "FILE", "compare these results with --reference instead of measuring", "bench"),
        V("--ratios", "FILE", "write the ratios as JSON", "bench"),

        // ld help.
        F("--markdown", "print the README's option table", "help"),
        V("--update-readme", "FILE", "rewrite the option table between the ld-options markers of FILE", "help"),
    ];

    /// <summary>The options a command takes, in declaration order.</summary>
    public static IEnumerable<OptionSpec> For(string command) => All.Where(o => o.AppliesTo(command));
}
