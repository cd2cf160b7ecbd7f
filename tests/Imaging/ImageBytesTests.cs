using LayerDiffusion.Native.Imaging;
using Xunit;

namespace LayerDiffusion.Native.Tests.Imaging;

public sealed class ImageBytesTests
{
    [Theory]
    [InlineData(0f, 0)]
    [InlineData(1f, 255)]
    [InlineData(0.999f, 254)]
    [InlineData(0.5f, 127)]
    [InlineData(1.7f, 255)]
    [InlineData(-0.3f, 0)]
    [InlineData(float.NaN, 0)]
    public void BytesTruncateRatherThanRound(float v, int expected) => Assert.Equal(expected, ImageBytes.Truncate(v));

    [Fact]
    public void StraightRgbaMovesAlphaLastAndDoesNotPremultiply()
    {
        // [4, 1, 2]: alpha plane, then R, G, B planes.
        float[] y = [0.5f, 1f, /*R*/ 1f, 0.2f, /*G*/ 0.6f, 0f, /*B*/ 0.1f, 1f];
        Assert.Equal(new byte[] { 255, 153, 25, 127, 51, 0, 255, 255 }, ImageBytes.StraightRgba(y, 1, 2));
    }

    [Fact]
    public void PreviewUses64PixelCellsDarkTopLeft()
    {
        int h = 128, w = 192;
        var y = new float[4 * h * w];   // fully transparent: the preview is the board itself
        var rgb = ImageBytes.CheckerboardPreview(y, h, w);
        byte Px(int yy, int xx) => rgb[(yy * w + xx) * 3];
        Assert.Equal(114, Px(0, 0));     // truncate(0.45 · 255)
        Assert.Equal(114, Px(63, 63));
        Assert.Equal(140, Px(0, 64));    // truncate(0.55 · 255)
        Assert.Equal(140, Px(64, 0));
        Assert.Equal(114, Px(64, 64));
        Assert.Equal(140, Px(127, 191));   // cell (1, 2)
        Assert.Equal(114, Px(0, 128));     // cell (0, 2)
    }

    [Fact]
    public void PreviewCellsStretchLikeOpenCvNearestForOtherSizes()
    {
        // 200 px = 3 cells stretched over 200: cell index floor(x · 3 / 200).
        Assert.Equal(0, ImageBytes.CheckerIndex(66, 200));
        Assert.Equal(1, ImageBytes.CheckerIndex(67, 200));
        Assert.Equal(2, ImageBytes.CheckerIndex(199, 200));
        Assert.Equal(0, ImageBytes.CheckerIndex(100, 120));   // one cell
        Assert.Equal(0, ImageBytes.CheckerIndex(10, 40));     // under a cell
    }

    [Fact]
    public void PreviewCompositesForegroundOverTheBoard()
    {
        float[] y = [1f, 0.25f, /*R*/ 1f, 1f, /*G*/ 0f, 0f, /*B*/ 0.5f, 0.5f];
        var rgb = ImageBytes.CheckerboardPreview(y, 1, 2);
        Assert.Equal(new byte[] { 255, 0, 127 }, rgb[..3]);
        Assert.Equal(ImageBytes.Truncate(1f * 0.25f + 0.45f * 0.75f), rgb[3]);
        Assert.Equal(ImageBytes.Truncate(0.45f * 0.75f), rgb[4]);
    }

    [Fact]
    public void VaePixelsMapMinusOneToOneOntoBytes()
    {
        float[] chw = [-1f, 1f, /*G*/ 0f, 2f, /*B*/ -3f, 0.5f];
        Assert.Equal(new byte[] { 0, 127, 0, 255, 255, 191 }, ImageBytes.VaePixelsToRgb(chw, 1, 2));
    }

    [Fact]
    public void PlanarUnitIsBytesOver255()
    {
        Assert.Equal([0f, 1f, 51 / 255f, 1f, 0f, 0f], ImageBytes.ToPlanarUnit([0, 51, 0, 255, 255, 0], 1, 2, 3));
    }
}
