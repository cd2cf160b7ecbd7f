using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>Arguments and files the CLI tests share: the golden tiny models as `ld` options, and images on disk.</summary>
internal static class CliFiles
{
    public static string Vocab => TestPaths.VocabPath;

    /// <summary>--model/--tokenizer and every LayerDiffusion file option for a patch file of the golden set.</summary>
    public static string[] ModelArgs(string patch) =>
    [
        "--model", TestPaths.Golden("tiny_sdxl.safetensors"), "--tokenizer", Vocab,
        "--layer-model", TestPaths.Golden(patch),
        "--transparent-decoder", TestPaths.Golden("tiny_transparent_decoder.safetensors"),
        "--transparent-encoder", TestPaths.Golden("transparent_encoder_weights.safetensors"),
    ];

    /// <summary>--model/--tokenizer, the SD1.5 attention-sharing file and the transparent decoder of the golden-sd15 set.</summary>
    public static string[] Sd15ModelArgs(string patch) =>
    [
        "--model", TestPaths.GoldenSd15("tiny_sd15.safetensors"), "--tokenizer", Vocab, "--layer-model", TestPaths.GoldenSd15(patch),
        "--transparent-decoder", TestPaths.GoldenSd15("tiny_transparent_decoder.safetensors"),
    ];

    public static readonly string[] Small = ["--width", "64", "--height", "64", "--steps", "2", "--sampler", "euler", "--quiet"];

    public static string WritePng(string dir, string name, int channels, int width = 64, int height = 64)
    {
        var px = new byte[width * height * channels];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 37 % 251);
        if (channels == 4) for (int i = 3; i < px.Length; i += 4) px[i] = (byte)(i % 7 == 0 ? 0 : 255);
        string path = Path.Combine(dir, name);
        PngWriter.Write(path, px, width, height, channels);
        return path;
    }
}
