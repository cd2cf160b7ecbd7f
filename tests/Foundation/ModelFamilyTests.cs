using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>The model family is data picked from the checkpoint's keys.</summary>
public sealed class ModelFamilyTests
{
    [Fact]
    public void TheTinyGoldenCheckpointIsSdxl()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var family = ModelFamily.Detect(f);
        Assert.Same(ModelFamily.Sdxl, family);
        Assert.Equal(0.13025f, family.LatentScale);
        Assert.Equal([false, true], family.TextEncoders.Select(e => e.Pooled));
        Assert.Equal(1f + 6 * VectorConditioning.SizeEmbeddingWidth, family.VectorConditioning!([1f], 64, 64).Length);
    }

    [Fact]
    public void AFileOfNoKnownFamilyIsAnErrorNamingIt()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_transparent_decoder.safetensors"));
        var e = Assert.Throws<ModelFormatException>(() => ModelFamily.Detect(f));
        Assert.Contains("tiny_transparent_decoder", e.Message);
        Assert.Contains("SDXL", e.Message);
    }

    [Theory]
    [InlineData(64, 0, 640, 10)]
    [InlineData(64, 0, 96, null)]
    [InlineData(0, 8, 320, 8)]
    [InlineData(0, 8, 100, null)]
    public void HeadsComeFromAWidthOrACount(int width, int count, int channels, int? heads) =>
        Assert.Equal(heads, new AttentionHeads(width, count).For(channels));
}
