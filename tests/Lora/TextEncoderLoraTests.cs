using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Lora;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Text;
using Xunit;

namespace LayerDiffusion.Native.Tests.Lora;

/// <summary>
/// The text-encoder modules of kohya LoRAs (lora_te1_/lora_te2_ on SDXL's CLIP-L and OpenCLIP-G, lora_te_ on SD1.5's
/// CLIP): every projection of layer 0 of every encoder gets a random non-zero LoRA, and the merged weights are checked
/// against W + s·(alpha/rank)·up@down computed in double from the file's values (OpenCLIP's q, k, v as the row blocks of
/// its fused in_proj); the encoders' outputs change with the multiplier and are identical at 0.
/// </summary>
public sealed class TextEncoderLoraTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Projections = ["self_attn_q_proj", "self_attn_k_proj", "self_attn_v_proj", "self_attn_out_proj", "mlp_fc1", "mlp_fc2"];

    private static string Canonical(string projection) =>
        "encoder.layers.0." + projection.Replace("self_attn_", "self_attn.").Replace("mlp_", "mlp.") + ".weight";

    /// <summary>Rank 1 + index % 3 on each projection of layer 0 of every encoder, alpha on every other one.</summary>
    private string WriteLora(string checkpoint, ModelFamily family)
    {
        var rng = new System.Random(7);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.5f + 0.001f).ToArray();
        using var ckpt = SafeTensorsFile.Open(checkpoint);
        var w = new SafeTensorsWriter();
        int index = 0;
        for (int e = 0; e < family.TextEncoders.Count; e++)
        {
            var config = ClipConfig.Infer(ckpt, family.TextEncoders[e].Prefix);
            foreach (var p in Projections)
            {
                int rows = p == "mlp_fc1" ? config.MlpWidth : config.Width, cols = p == "mlp_fc2" ? config.MlpWidth : config.Width, rank = 1 + index % 3;
                string module = TextEncoderLoras.KohyaPrefix(e, family.TextEncoders.Count) + "text_model_encoder_layers_0_" + p;
                w.Add(module + ".lora_down.weight", [rank, cols], Values(rank * cols)).Add(module + ".lora_up.weight", [rows, rank], Values(rows * rank));
                if (index++ % 2 == 0) w.Add(module + ".alpha", [], new float[] { 1.5f });
            }
        }
        string path = Path.Combine(_dir, "te.safetensors");
        w.Write(path);
        return path;
    }

    public static TheoryData<string> Checkpoints => new() { TestPaths.Golden("tiny_sdxl.safetensors"), Path.Combine(TestPaths.GoldenSd15Dir, "tiny_sd15.safetensors") };

    [Theory, MemberData(nameof(Checkpoints))]
    public void MergedProjectionsAreWPlusScaledUpTimesDown(string checkpoint)
    {
        const float weight = 0.6f;
        using var ckpt = SafeTensorsFile.Open(checkpoint);
        var family = ModelFamily.Detect(ckpt);
        using var lora = SafeTensorsFile.Open(WriteLora(checkpoint, family));
        var be = CpuBackend.Instance;
        for (int e = 0; e < family.TextEncoders.Count; e++)
        {
            var spec = family.TextEncoders[e];
            var config = ClipConfig.Infer(ckpt, spec.Prefix);
            string prefix = family.TextEncoders.Count == 1 ? "lora_te_" : $"lora_te{e + 1}_";
            var merge = TextEncoderLoras.Merger(be, [new TextLora(lora, weight)], prefix, config.Layers, spec.Name);
            var plain = WeightStore.Open(be, ckpt, spec.Prefix, config.Keys);
            var merged = WeightStore.Open(be, ckpt, spec.Prefix, config.Keys, merge);
            try
            {
                foreach (var p in Projections)
                {
                    string module = prefix + "text_model_encoder_layers_0_" + p, name = Canonical(p);
                    var shape = plain.ShapeOf(name)!;
                    var w0 = be.ToHost(plain.Get(name, ParamKind.Weight, shape));
                    var got = be.ToHost(merged.Get(name, ParamKind.Weight, shape));
                    var up = lora.ReadFloat32(module + ".lora_up.weight");
                    var down = lora.ReadFloat32(module + ".lora_down.weight");
                    int rank = lora.Info(module + ".lora_down.weight").Shape[0];
                    double scale = weight * (lora.Contains(module + ".alpha") ? 1.5 / rank : 1.0);
                    LoraMergeAssert.Merged(w0, got, up, down, rank, scale, $"{spec.Name} {name}");
                }
                // A weight no module targets is the checkpoint's.
                string other = "encoder.layers.0.layer_norm1.weight";
                Assert.Equal(be.ToHost(plain.Get(other, ParamKind.Weight, plain.ShapeOf(other)!)), be.ToHost(merged.Get(other, ParamKind.Weight, merged.ShapeOf(other)!)));
            }
            finally
            {
                plain.DisposeLoaded();
                merged.DisposeLoaded();
            }
        }
    }

    [Theory, MemberData(nameof(Checkpoints))]
    public void EncoderOutputsChangeWithTheMultiplierAndNotAtZero(string checkpoint)
    {
        using var ckpt = SafeTensorsFile.Open(checkpoint);
        var family = ModelFamily.Detect(ckpt);
        using var lora = SafeTensorsFile.Open(WriteLora(checkpoint, family));
        var be = CpuBackend.Instance;
        for (int e = 0; e < family.TextEncoders.Count; e++)
        {
            var spec = family.TextEncoders[e];
            string prefix = TextEncoderLoras.KohyaPrefix(e, family.TextEncoders.Count);
            ClipTextOutput Encode(float weight)
            {
                using var encoder = ClipTextEncoder.Load(be, ckpt, spec, weight is float.NaN ? null : [new TextLora(lora, weight)], prefix);
                var ids = Enumerable.Range(0, encoder.Config.Positions).Select(i => (i * 7 + 1) % encoder.Config.VocabSize).ToArray();
                return encoder.Encode(ids, encoder.Spec.Pooled);
            }
            var plain = Encode(float.NaN);
            var zero = Encode(0f);
            var styled = Encode(0.8f);
            Assert.Equal(plain.Hidden, zero.Hidden);
            Assert.Equal(plain.Pooled, zero.Pooled);
            Assert.NotEqual(plain.Hidden, styled.Hidden);
            if (spec.Pooled) Assert.NotEqual(plain.Pooled, styled.Pooled);
        }
    }

    [Fact]
    public void AModuleNamingNoProjectionIsRefusedByName()
    {
        string path = Path.Combine(_dir, "bad.safetensors");
        new SafeTensorsWriter()
            .Add("lora_te2_text_model_encoder_layers_99_mlp_fc1.lora_down.weight", [2, 4], new float[8])
            .Add("lora_te2_text_model_encoder_layers_99_mlp_fc1.lora_up.weight", [4, 2], new float[8]).Write(path);
        using var ckpt = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        using var lora = SafeTensorsFile.Open(path);
        var spec = ModelFamily.Detect(ckpt).TextEncoders[1];
        var e = Assert.Throws<ModelFormatException>(() => ClipTextEncoder.Load(CpuBackend.Instance, ckpt, spec, [new TextLora(lora, 0f)], "lora_te2_"));
        Assert.Contains($"{path}: tensor 'lora_te2_text_model_encoder_layers_99_mlp_fc1.lora_down.weight': names no projection of this checkpoint's {spec.Name}", e.Message);
    }

    [Fact]
    public void AnotherFamilysModuleIsRefusedByName()
    {
        string path = Path.Combine(_dir, "sd15.safetensors");
        new SafeTensorsWriter()
            .Add("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", [2, 64], new float[128])
            .Add("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", [256, 2], new float[512]).Write(path);
        using var ckpt = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        using var lora = SafeTensorsFile.Open(path);
        var chunker = new PromptChunker(ClipTokenizer.Load(TestPaths.VocabPath));
        var e = Assert.Throws<ModelFormatException>(() => TextConditioner.Load(CpuBackend.Instance, ckpt, ModelFamily.Detect(ckpt), chunker, [new TextLora(lora, 1f)]));
        Assert.Contains($"{path}: tensor 'lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight': is a text-encoder module of another model family: this checkpoint's 2 text encoder(s) take lora_te1_ and lora_te2_ modules", e.Message);
    }
}
