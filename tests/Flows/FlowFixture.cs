using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Tests.Flows;

/// <summary>
/// The workflows on the golden tiny models: tiny_sdxl with each method's patch file, the tiny transparent decoder and
/// encoder, and the real CLIP vocab. 64×64 images and a few Euler steps keep each run well under a second.
/// </summary>
internal static class FlowFixture
{
    /// <summary>Every workflow: the six methods, and transparent img2img ("img2img", with the attention patch).</summary>
    public static readonly string[] AllFlows = ["attn", "conv", "fg2ble", "bg2ble", "fgble2bg", "bgble2fg", "img2img"];

    private static readonly Lazy<ITokenizer> Vocab = new(() => ClipTokenizer.Load(TestPaths.VocabPath));

    public static LayerMethod MethodOf(string flow) => flow == "img2img" ? LayerMethod.Attn : LayerMethods.Parse("flow", flow);

    public static string PatchFile(LayerMethod m) => m switch
    {
        LayerMethod.Attn => "patch_attn_lora.safetensors",
        LayerMethod.Conv => "patch_conv_diff.safetensors",
        LayerMethod.Fg2Ble or LayerMethod.Bg2Ble => "patch_layer_1cond.safetensors",
        _ => "patch_layer_2cond.safetensors",
    };

    public static ModelBundle Models(LayerMethod method) => new(CpuBackend.Instance, new ModelPaths
    {
        Checkpoint = TestPaths.Golden("tiny_sdxl.safetensors"),
        LayerModel = TestPaths.Golden(PatchFile(method)),
        TransparentDecoder = TestPaths.Golden("tiny_transparent_decoder.safetensors"),
        TransparentEncoder = TestPaths.Golden("transparent_encoder_weights.safetensors"),
    }, Vocab.Value);

    public static GenerationSettings Settings(string flow, int steps = 3) => new()
    {
        Prompt = "an apple, high quality",
        Negative = "bad, ugly",
        Steps = steps,
        Cfg = 5f,
        Sampler = "euler",
        Seed = 12345,
        Rng = "cpu",
        Width = 64,
        Height = 64,
        Method = MethodOf(flow),
    };

    /// <summary>The flow's input images, all drawn from one variant number (another variant gives other images).</summary>
    public static GenerationInputs Inputs(string flow, int variant = 0) => flow switch
    {
        "fg2ble" => new() { Foreground = Image(variant, transparent: true) },
        "bg2ble" => new() { Background = Image(variant, transparent: false) },
        "fgble2bg" => new() { Foreground = Image(variant, transparent: true), Blend = Image(variant + 100, transparent: false) },
        "bgble2fg" => new() { Background = Image(variant, transparent: false), Blend = Image(variant + 100, transparent: false) },
        "img2img" => new() { Init = Image(variant, transparent: true) },
        _ => new(),
    };

    /// <summary>
    /// A 64×64 test picture: a colour gradient, and (transparent) a soft-edged opaque disc on a clear background.
    /// The variant moves the disc and changes the colours.
    /// </summary>
    public static RgbaImage Image(int variant, bool transparent, int width = 64, int height = 64)
    {
        var rng = new System.Random(variant * 7919 + 13);
        double cx = width * (0.3 + 0.4 * rng.NextDouble()), cy = height * (0.3 + 0.4 * rng.NextDouble());
        double r = Math.Min(width, height) * (0.2 + 0.15 * rng.NextDouble());
        var c0 = new[] { rng.Next(256), rng.Next(256), rng.Next(256) };
        var c1 = new[] { rng.Next(256), rng.Next(256), rng.Next(256) };
        var px = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 4;
                double t = (x + y) / (double)(width + height - 2);
                for (int c = 0; c < 3; c++) px[i + c] = (byte)Math.Round(c0[c] + (c1[c] - c0[c]) * t);
                double d = Math.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                px[i + 3] = transparent ? (byte)Math.Round(255 * Math.Clamp(r + 2 - d, 0, 4) / 4) : (byte)255;
            }
        return new RgbaImage(width, height, px);
    }

    public static int DistinctAlphas(byte[] rgba)
    {
        var seen = new HashSet<byte>();
        for (int i = 3; i < rgba.Length; i += 4) seen.Add(rgba[i]);
        return seen.Count;
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"{a.Length} vs {b.Length} values");
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
