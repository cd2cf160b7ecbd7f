using System.Diagnostics;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Bench;

/// <summary>The model files one bench run measures. Every path but the checkpoint is optional; a component that needs a missing one is skipped with a reason.</summary>
public sealed record BenchModelFiles
{
    public required string Checkpoint { get; init; }
    public ITokenizer? Tokenizer { get; init; }
    /// <summary>layer_xl_transparent_attn (an attention LoRA).</summary>
    public string? AttentionPatch { get; init; }
    /// <summary>layer_xl_transparent_conv (diff offsets).</summary>
    public string? ConvPatch { get; init; }
    public string? Decoder { get; init; }
    public string? Encoder { get; init; }
    /// <summary>Says where the weights came from, for the report.</summary>
    public required string Description { get; init; }
}

/// <summary>The optional files of a run (the checkpoint is always there).</summary>
[Flags]
public enum BenchFiles { None = 0, AttentionPatch = 1, ConvPatch = 2, Decoder = 4, Encoder = 8, All = 15 }

/// <summary>Which synthetic model: the demo's tiny sizes (CPU default) or the released shapes (SDXL 1.0 base, UNet1024, encoder).</summary>
public enum BenchProfile { Tiny, Real }

/// <summary>
/// Random-weight models at a profile's shapes, written once into a cache folder and reused: the same files, byte
/// for byte, on every machine, so any GPU can produce every number without a checkpoint. The real profile is about
/// 11 GB (checkpoint 6.9 GB, conv offsets 3.6 GB, attention LoRA 0.7 GB, decoder 0.2 GB).
/// </summary>
public static class SyntheticBenchModels
{
    private const ulong Seed = 20250101;

    private sealed record Shapes(UnetConfig Unet, SdxlSizes Sizes, int[] DecoderWidths, int[] EncoderWidths, int LoraRank);

    private static Shapes For(BenchProfile p) => p == BenchProfile.Real
        ? new(SdxlLayout.RealUnet, SdxlSizes.Real, LayerDiffusionLayout.RealDecoderWidths, BenchLayouts.RealEncoderWidths, 256)
        : new(DemoModels.Unet, DemoModels.Sizes, DemoModels.DecoderWidths, [8, 8, 16, 16, 16, 16, 32, 32], 4);

    public static string FolderName(BenchProfile p) => $"ld-bench-{p.ToString().ToLowerInvariant()}-v1";

    /// <summary>Default cache root: $LD_CACHE_DIR, else the temp folder's ld-cache.</summary>
    public static string DefaultWorkDir =>
        Environment.GetEnvironmentVariable("LD_CACHE_DIR") is { Length: > 0 } c ? c : Path.Combine(Path.GetTempPath(), "ld-cache");

    /// <summary>
    /// The profile's files, writing those missing from the cache; <paramref name="wanted"/> limits which optional
    /// files are made (the rest are left out, so a run that needs no conv offsets does not write 3.6 GB of them).
    /// </summary>
    public static BenchModelFiles Ensure(BenchProfile profile, string workDir, TextWriter log, BenchFiles wanted = BenchFiles.All)
    {
        var s = For(profile);
        string dir = Path.Combine(workDir, FolderName(profile));
        Directory.CreateDirectory(dir);
        string P(string name) => Path.Combine(dir, name);
        var files = new BenchModelFiles
        {
            Checkpoint = P("sdxl.safetensors"),
            AttentionPatch = P("layer_xl_transparent_attn.safetensors"),
            ConvPatch = P("layer_xl_transparent_conv.safetensors"),
            Decoder = P("vae_transparent_decoder.safetensors"),
            Encoder = P("vae_transparent_encoder.safetensors"),
            Tokenizer = new ByteLevelTokenizer(s.Sizes.Vocab),
            Description = profile == BenchProfile.Real
                ? "synthetic: random fp16 weights at the released shapes (SDXL 1.0 base, UNet1024 decoder, offset encoder)"
                : "synthetic tiny: random fp16 weights at the demo model's sizes (not comparable with real shapes)",
        };
        WriteOnce(files.Checkpoint, () => SdxlLayout.Checkpoint(s.Unet, s.Sizes), Seed, log);
        return files with
        {
            AttentionPatch = Made(wanted, BenchFiles.AttentionPatch, files.AttentionPatch, () => LayerDiffusionLayout.AttentionLora(s.Unet, s.LoraRank), Seed + 1, log),
            ConvPatch = Made(wanted, BenchFiles.ConvPatch, files.ConvPatch, () => BenchLayouts.ConvOffsets(s.Unet), Seed + 2, log),
            Decoder = Made(wanted, BenchFiles.Decoder, files.Decoder, () => LayerDiffusionLayout.TransparentDecoder(s.DecoderWidths), Seed + 3, log),
            Encoder = Made(wanted, BenchFiles.Encoder, files.Encoder, () => LayerDiffusionLayout.TransparentEncoder(s.EncoderWidths), Seed + 4, log),
        };
    }

    private static string? Made(BenchFiles wanted, BenchFiles which, string? path, Func<TensorLayout> layout, ulong seed, TextWriter log)
    {
        if (!wanted.HasFlag(which)) return null;
        WriteOnce(path!, layout, seed, log);
        return path;
    }

    private static void WriteOnce(string path, Func<TensorLayout> layout, ulong seed, TextWriter log)
    {
        if (File.Exists(path)) return;
        var sw = Stopwatch.StartNew();
        string tmp = path + "." + Environment.ProcessId + ".tmp";
        try
        {
            SyntheticWeights.Write(layout(), tmp, seed);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        log.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1048576.0:F1} MiB, {sw.Elapsed.TotalSeconds:F1} s)");
    }
}
