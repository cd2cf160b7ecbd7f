namespace LayerDiffusion.Native.Cli;

/// <summary>Every `ld` command, declared once: `ld --help`, `ld COMMAND --help` and dispatch read this table.</summary>
public static class CliCommands
{
    public static readonly string[] Names = ["generate", "layer", "img2img", "batch", "decode", "verify", "info", "bench", "profile", "selftest", "help"];

    public static readonly CommandSpec[] All =
    [
        new("generate", "transparent text-to-image (--method attn|conv; --demo for the built-in model)",
            ["ld generate --demo [options]",
             "ld generate --model CKPT --tokenizer TOK (--layer-model FILE --transparent-decoder FILE | --models-dir DIR) [options]"],
            GenerateCommand.Generate)
        { Notes = ["Prints the files written on stdout (none with --json -, which prints the JSON there)."] },
        new("layer", "layer workflows: --mode fg2ble|bg2ble|fgble2bg|bgble2fg",
            ["ld layer --mode MODE --fg/--bg/--blend IMAGE --model CKPT --tokenizer TOK (--layer-model FILE | --models-dir DIR) [options]"],
            GenerateCommand.Layer)
        { Notes = ["fg2ble: --fg; bg2ble: --bg; fgble2bg: --fg --blend; bgble2fg: --bg --blend. The demo model has no layer patches."] },
        new("img2img", "transparent image-to-image: --init RGBA.png --denoise S (--method attn|conv|sd15-attn)",
            ["ld img2img --init RGBA.png [--denoise S] --model CKPT --tokenizer TOK (--layer-model FILE --transparent-decoder FILE --transparent-encoder FILE | --models-dir DIR) [options]"],
            GenerateCommand.Img2Img),
        new("batch", "many jobs from a JSON Lines file, models loaded once; --shard I/N, Slurm arrays, Kubernetes Indexed Jobs",
            ["ld batch JOBS.jsonl [--out-dir DIR] [--results FILE] [--shard INDEX/COUNT | --shard-count N] [job defaults]"],
            BatchCommand.Run, Positional: "JOBS.jsonl")
        {
            Notes =
            [
                "JOBS.jsonl: one JSON object per line, keys = long options of generate/layer/img2img without dashes, plus \"command\"",
                "(generate, layer or img2img; default generate), e.g. {\"prompt\": \"a glass bottle\", \"seed\": 7, \"out\": \"bottle.png\"}.",
                "Job defaults: any option of generate/layer/img2img but --out (--demo, --model, --models-dir, --steps, ...).",
                "A rerun skips jobs whose outputs and OUT.ld-job.json record exist with the same settings.",
            ],
        },
        new("decode", "transparent decoder alone: --rgb IMAGE --latent FILE.safetensors -> RGBA PNG",
            ["ld decode (--rgb IMAGE.png | --model CKPT) --latent FILE.safetensors (--transparent-decoder FILE | --models-dir DIR) [options]"],
            DecodeCommand.Run)
        { Notes = ["FILE.safetensors holds tensor 'latent' [1, 4, h/8, w/8]: the unscaled VAE latent (ld generate --save-latent)."] },
        new("verify", "check the engine against a golden data folder", ["ld verify [--golden DIR] [options]"], VerifyCommand.Run),
        new("info", "describe a model file (checkpoint, LayerDiffusion file, LoRA) or an image and its infotext", ["ld info FILE"], InfoCommand.Run, Positional: "FILE"),
        new("bench", "per-component timings and peak memory (JSON + Markdown; --reference for PyTorch ratios)",
            ["ld bench [options]",
             "ld bench --results OURS.json --reference TORCH.json [--ratios FILE] [--markdown FILE]   (compare only)"],
            BenchCommand.Run)
        { Notes = BenchCommand.Notes },
        new("profile", "cost ledger: launches, FLOPs, bytes and time per op class of a UNet step, VAE and transparent decode/encode",
            ["ld profile [options]"], ProfileCommand.Run)
        { Notes = ProfileCommand.Notes },
        new("selftest", "check every GPU op against the CPU reference on random inputs", ["ld selftest [options]"], SelftestCommand.Run)
        { Notes = ["Runs every backend op on random inputs against the fp32 CPU reference; exit 1 if any case fails.",
                   "On the CPU the CUDA-only cases are reported as skipped."] },
        new("help", "this list, a command's options, or the README's option table", ["ld help [COMMAND]", "ld help --markdown | --update-readme README.md"],
            HelpCommand.Run, Positional: "COMMAND"),
    ];

    public static CommandSpec? Find(string name) => All.FirstOrDefault(c => c.Name == name);
}
