using LayerDiffusion.Native.Bench;
using LayerDiffusion.Native.Models.Synthetic;
using Xunit;

namespace LayerDiffusion.Native.Tests.Bench;

public sealed class BenchOptionsTests
{
    [Fact]
    public void SizesParseAsWidthByHeight() =>
        Assert.Equal([(1024, 1024), (896, 1152)], BenchOptions.ParseSizes("--size", "1024x1024, 896x1152"));

    [Theory]
    [InlineData("1024")]
    [InlineData("1001x1024")]
    [InlineData("32x32")]
    [InlineData("axb")]
    [InlineData(",")]
    public void BadSizesNameTheOption(string text) =>
        Assert.StartsWith("--size:", Assert.Throws<InvalidOptionException>(() => BenchOptions.ParseSizes("--size", text)).Message);

    [Fact]
    public void GroupsExpandInRunOrder()
    {
        var names = BenchComponents.Select("tenc,vae,unet").Select(c => c.Name).ToArray();
        Assert.Equal(["unet_step", "vae_encode", "vae_decode", "tenc"], names);
        Assert.Equal(BenchComponents.All.Count, BenchComponents.Select("all").Count);
    }

    [Fact]
    public void UnknownComponentListsTheValidOnes()
    {
        var e = Assert.Throws<InvalidOptionException>(() => BenchComponents.Select("unet,warp"));
        Assert.Contains("'warp'", e.Message);
        Assert.Contains("tdec_8way", e.Message);
    }

    /// <summary>The SDXL shapes GPU.md's PyTorch reference used: torch_reference.py derives the same from the same config.</summary>
    [Fact]
    public void UnetAttentionShapesAtTheReleasedSizes()
    {
        var shapes = AttentionBench.UnetShapes(SdxlLayout.RealUnet, 1024, 1024, 2).Select(s => s.ToString()).ToArray();
        Assert.Equal(["b2 h10 q4096 k4096 d64", "b2 h10 q4096 k77 d64", "b2 h20 q1024 k1024 d64", "b2 h20 q1024 k77 d64"], shapes);
        var tall = AttentionBench.UnetShapes(SdxlLayout.RealUnet, 896, 1152, 1).First();
        Assert.Equal("b1 h10 q4032 k4032 d64", tall.ToString());   // (1152/16)·(896/16) = 72·56
    }
}
