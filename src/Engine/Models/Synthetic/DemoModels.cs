using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>
/// The built-in demo model behind `ld generate/layer/img2img --demo`: a tiny SDXL-topology checkpoint, the attention
/// LoRA, conv and layer models (one- and two-condition layouts), the transparent decoder and encoder, all with deterministic random weights written to real safetensors files on first use, and a
/// byte-level tokenizer. It exercises every stage of the real pipeline in seconds on a CPU; its images are noise.
/// </summary>
public static class DemoModels
{
    public const int VocabSize = 260;
    public const ulong Seed = 20240227;

    public static UnetConfig Unet { get; } = new(4, 4, 32, [1, 2, 4], 2, [0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0, 0], 1, 128,
        32 + 6 * VectorConditioning.SizeEmbeddingWidth, 128, ModelFamily.Sdxl.UnetHeads);

    public static SdxlSizes Sizes { get; } = new(64, 2, 64, 2, 32, [32, 32, 64, 64], 1, Vocab: VocabSize);

    public static int[] DecoderWidths { get; } = [8, 8, 16, 16, 32, 32, 32];

    public static int[] EncoderWidths { get; } = [8, 8, 8, 8, 16, 16, 16, 16];

    /// <param name="ConvDiff">The conv method's model; <paramref name="OneCondition"/> serves fg2ble and bg2ble,
    /// <paramref name="TwoConditions"/> fgble2bg and bgble2fg (the layouts the released pairs share).</param>
    public sealed record Files(string Checkpoint, string AttentionLora, string Decoder, string Encoder, string ConvDiff, string OneCondition, string TwoConditions)
    {
        /// <summary>The demo's patch file for a method.</summary>
        public string PatchFor(LayerMethod method) => method switch
        {
            LayerMethod.Attn => AttentionLora,
            LayerMethod.Conv => ConvDiff,
            _ => LayerMethods.ConcatCount(method) == 1 ? OneCondition : TwoConditions,
        };
    }

    /// <summary>Writes the demo files into <paramref name="dir"/> unless they are already there.</summary>
    public static Files Ensure(string dir)
    {
        Directory.CreateDirectory(dir);
        return new Files(
            Write(dir, "sdxl", Seed, () => SdxlLayout.Checkpoint(Unet, Sizes)),
            Write(dir, "layer_xl_transparent_attn", Seed + 1, () => LayerDiffusionLayout.AttentionLora(Unet, 4)),
            Write(dir, "vae_transparent_decoder", Seed + 2, () => LayerDiffusionLayout.TransparentDecoder(DecoderWidths)),
            Write(dir, "vae_transparent_encoder", Seed + 3, () => LayerDiffusionLayout.TransparentEncoder(EncoderWidths)),
            Write(dir, "layer_xl_transparent_conv", Seed + 4, () => LayerDiffusionLayout.LayerDiff(Unet, 0)),
            Write(dir, "layer_xl_one_condition", Seed + 5, () => LayerDiffusionLayout.LayerDiff(Unet, 1)),
            Write(dir, "layer_xl_two_conditions", Seed + 6, () => LayerDiffusionLayout.LayerDiff(Unet, 2)));
    }

    public static ITokenizer Tokenizer() => new ByteLevelTokenizer(VocabSize);

    /// <summary>Default cache folder for the demo files.</summary>
    public static string DefaultDir =>
        Path.Combine(Environment.GetEnvironmentVariable("LD_CACHE_DIR") is { Length: > 0 } c ? c : Path.Combine(Path.GetTempPath(), "ld-cache"), $"demo-v1-{Seed}");

    /// <summary>Writes demo_<paramref name="name"/>.safetensors with the layout's weights unless it is already there.</summary>
    private static string Write(string dir, string name, ulong seed, Func<TensorLayout> layout)
    {
        string path = Path.Combine(dir, $"demo_{name}.safetensors"), tmp = path + "." + Environment.ProcessId + ".tmp";
        if (File.Exists(path)) return path;
        SyntheticWeights.Write(layout(), tmp, seed);
        File.Move(tmp, path, overwrite: true);
        return path;
    }
}
