using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Text;
using Xunit;

namespace LayerDiffusion.Native.Tests.Text;

public sealed class TextConditionerTests
{
    private const string LPrefix = "conditioner.embedders.0.transformer.text_model.";
    private const string GPrefix = "conditioner.embedders.1.model.";

    private static TextConditioner TinyConditioner(SafeTensorsFile file) =>
        TextConditioner.Load(CpuBackend.Instance, file, ModelFamily.Sdxl, ClipTokenizer.Load(TestPaths.VocabPath));

    [Fact]
    public void EmptyNegativePromptIsZeroShapedLikeTheEmptyPrompt()
    {
        using var file = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        using var cond = TinyConditioner(file);
        var zero = cond.EncodeNegative("");
        var empty = cond.Encode("");
        Assert.True(zero.IsZero);
        Assert.Equal(empty.ContextShape, zero.ContextShape);
        Assert.Equal(empty.PooledShape, zero.PooledShape);
        Assert.All(zero.Context, v => Assert.Equal(0f, v));
        Assert.All(zero.Pooled, v => Assert.Equal(0f, v));
        Assert.Contains(empty.Context, v => v != 0f); // the encoded empty prompt itself is not zero

        // Only "" exactly is zeroed (Forge compares with ''); anything else is encoded as a prompt.
        var space = cond.EncodeNegative(" ");
        Assert.False(space.IsZero);
        Assert.Equal(cond.Encode(" ").Context, space.Context);
        var neg = cond.EncodeNegative("bad, ugly");
        Assert.Equal(cond.Encode("bad, ugly").Pooled, neg.Pooled);
    }

    [Fact]
    public void ContextIsSeventySevenTokensPerChunkOfBothWidths()
    {
        using var file = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        using var cond = TinyConditioner(file);
        var e = cond.Encode("cat BREAK dog");
        int widthL = file.Info(LPrefix + "embeddings.token_embedding.weight").Shape[1];
        int widthG = file.Info(GPrefix + "token_embedding.weight").Shape[1];
        Assert.Equal(2, e.Chunks);
        Assert.Equal([1, 154, widthL + widthG], e.ContextShape);
        Assert.Equal([1, file.Info(GPrefix + "text_projection").Shape[1]], e.PooledShape);
    }

    [Fact]
    public void OriginalEmphasisKeepsTheMeanAndNoNormDoesNot()
    {
        float[] z = [1, 2, 3, 4, 5, 6];
        float[] w = [1f, 2f, 0.5f];
        var original = (float[])z.Clone();
        Emphasis.Apply(original, 2, w, EmphasisMode.Original);
        Assert.Equal(z.Average(), original.Average(), 5);
        Assert.Equal(original[2] / original[0], 2 * z[2] / z[0], 5);
        var noNorm = (float[])z.Clone();
        Emphasis.Apply(noNorm, 2, w, EmphasisMode.NoNorm);
        Assert.Equal([1, 2, 6, 8, 2.5f, 3], noNorm);
        var none = (float[])z.Clone();
        Emphasis.Apply(none, 2, w, EmphasisMode.None);
        Assert.Equal(z, none);
    }

    /// <summary>The tiny checkpoint's text-encoder tensors, minus one or with one replaced, in a temp file.</summary>
    private static string WriteAltered(string dir, string? drop, string? reshape)
    {
        using var src = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var w = new SafeTensorsWriter();
        foreach (var name in src.Names.Where(n => n.StartsWith("conditioner.", StringComparison.Ordinal)))
        {
            if (name == drop) continue;
            var info = src.Info(name);
            if (name == reshape) w.Add(name, [info.Shape[0] + 1], new float[info.Shape[0] + 1]);
            else w.Add(name, info.DType, info.Shape, src.Bytes(info));
        }
        string path = Path.Combine(dir, "altered.safetensors");
        w.Write(path);
        return path;
    }

    [Theory]
    [InlineData(LPrefix + "encoder.layers.1.self_attn.q_proj.weight")]
    [InlineData(GPrefix + "transformer.resblocks.0.attn.in_proj_weight")]
    [InlineData(GPrefix + "text_projection")]
    [InlineData(GPrefix + "positional_embedding")]
    public void MissingTensorIsNamed(string tensor)
    {
        string dir = TestPaths.TempDir();
        try
        {
            using var file = SafeTensorsFile.Open(WriteAltered(dir, drop: tensor, reshape: null));
            var e = Assert.Throws<ModelFormatException>(() => TinyConditioner(file));
            Assert.Equal(tensor, e.Tensor);
            Assert.Contains(tensor, e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void MisshapedTensorIsNamed()
    {
        string tensor = GPrefix + "transformer.resblocks.1.ln_2.bias";
        string dir = TestPaths.TempDir();
        try
        {
            using var file = SafeTensorsFile.Open(WriteAltered(dir, drop: null, reshape: tensor));
            var e = Assert.Throws<ModelFormatException>(() => TinyConditioner(file));
            Assert.Equal(tensor, e.Tensor);
            Assert.Contains("shape", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void TokenizerLargerThanTheVocabularyIsRejected()
    {
        using var file = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        int vocab = file.Info(LPrefix + "embeddings.token_embedding.weight").Shape[0];
        Assert.Throws<LdException>(() => TextConditioner.Load(CpuBackend.Instance, file, ModelFamily.Sdxl, new ByteLevelTokenizer(vocab + 1)));
        using var demo = TextConditioner.Load(CpuBackend.Instance, file, ModelFamily.Sdxl, new ByteLevelTokenizer(vocab));
        Assert.Equal(demo.Encode("hello").Context, demo.Encode("hello").Context);
    }
}
