using LayerDiffusion.Native.Imaging;
using Xunit;

namespace LayerDiffusion.Native.Tests.Imaging;

/// <summary>Hand-computed values of OpenCV's resize rules (see CvResize for which rule applies when).</summary>
public sealed class CvResizeTests
{
    private static FloatImage Row(params float[] v) => new(v.Length, 1, 1, v);

    [Fact]
    public void AreaWithIntegerScaleAveragesBlocks()
    {
        var img = new FloatImage(4, 2, 1, [1, 2, 3, 4, 5, 6, 7, 8]);
        var y = CvResize.Resize(img, 2, 1, CvInterpolation.Area);
        Assert.Equal([3.5f, 5.5f], y.Data);
    }

    [Fact]
    public void AreaWithFractionalScaleWeighsPartialPixelsByCoverage()
    {
        // Cells of 1.5 px: [s0 + 0.5 s1] / 1.5 and [0.5 s1 + s2] / 1.5.
        var y = CvResize.Resize(Row(3, 6, 9), 2, 1, CvInterpolation.Area);
        Assert.Equal(4f, y.Data[0], 5);
        Assert.Equal(8f, y.Data[1], 5);
        // Both axes at once, three channels: a constant stays constant.
        var c = new FloatImage(7, 5, 3, Enumerable.Repeat(0.3f, 105).ToArray());
        Assert.All(CvResize.Resize(c, 5, 4, CvInterpolation.Area).Data, v => Assert.Equal(0.3f, v, 6));
    }

    [Fact]
    public void LinearUsesHalfPixelCentresAndClampsEdges()
    {
        Assert.Equal([0f, 1f, 3f, 4f], CvResize.Resize(Row(0, 4), 4, 1, CvInterpolation.Linear).Data);
        var col = new FloatImage(1, 2, 1, [0, 8]);
        Assert.Equal([0f, 2f, 6f, 8f], CvResize.Resize(col, 1, 4, CvInterpolation.Linear).Data);
    }

    [Fact]
    public void LinearExactHalvingSwitchesToArea()
    {
        // OpenCV turns an exact 2× linear shrink into INTER_AREA: block means, not samples between pixels.
        var img = new FloatImage(4, 2, 1, [0, 2, 10, 20, 4, 6, 30, 40]);
        Assert.Equal([3f, 25f], CvResize.Resize(img, 2, 1, CvInterpolation.Linear).Data);
    }

    [Fact]
    public void AreaWhenEnlargingUsesOpenCvsBilinearEmulation()
    {
        Assert.Equal([2f, 4f, 6f], CvResize.Resize(Row(2, 6), 3, 1, CvInterpolation.Area).Data);
        Assert.Equal([2f, 2f, 6f, 6f], CvResize.Resize(Row(2, 6), 4, 1, CvInterpolation.Area).Data);
    }

    [Fact]
    public void Lanczos4KeepsConstantsAndHitsSamplesAtIntegerPositions()
    {
        var c = new FloatImage(5, 4, 2, Enumerable.Repeat(0.7f, 40).ToArray());
        Assert.All(CvResize.Resize(c, 13, 9, CvInterpolation.Lanczos4).Data, v => Assert.Equal(0.7f, v, 5));
        // Tripling: every third output centre lands on an input centre... (dx + 0.5) / 3 - 0.5 = sx for dx = 3 sx + 1.
        var src = Row(1, 5, 2, 8, 3);
        var y = CvResize.Resize(src, 15, 1, CvInterpolation.Lanczos4);
        for (int sx = 0; sx < 5; sx++) Assert.Equal(src.Data[sx], y.Data[3 * sx + 1], 5);
    }

    [Fact]
    public void SameSizeIsACopy()
    {
        var img = Row(1, 2, 3);
        var y = CvResize.Resize(img, 3, 1, CvInterpolation.Lanczos4);
        Assert.Equal(img.Data, y.Data);
        Assert.NotSame(img.Data, y.Data);
    }
}
