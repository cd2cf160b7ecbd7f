using LayerDiffusion.Native.Imaging;
using Xunit;

namespace LayerDiffusion.Native.Tests.Imaging;

public sealed class ConditionImageTests
{
    private static byte[] Rgba(int w, int h, Func<int, int, byte[]> f)
    {
        var px = new byte[w * h * 4];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) f(x, y).CopyTo(px, (y * w + x) * 4);
        return px;
    }

    [Fact]
    public void CompositeOnGreyBlendsTowardHalf()
    {
        var img = ConditionImage.CompositeOnGrey([255, 0, 51, 255, 255, 0, 51, 0, 255, 0, 51, 51], 3, 1);
        Assert.Equal([1f, 0f, 0.5f + (0.2f - 0.5f) * 1f], img.Data[..3]);
        Assert.Equal([0.5f, 0.5f, 0.5f], img.Data[3..6]);
        Assert.Equal(0.5f + 0.5f * 0.2f, img.Data[6], 6);
        Assert.Equal(0.5f - 0.5f * 0.2f, img.Data[7], 6);
    }

    [Fact]
    public void CropAndResizeCoversAndCentreCrops()
    {
        // 200×100 → 100×100: k = max(1, 0.5) = 1, so no resampling, just the centre 100 columns.
        var img = new FloatImage(200, 100, 3);
        for (int y = 0; y < 100; y++) for (int x = 0; x < 200; x++) img[y, x, 0] = x;
        var y0 = ConditionImage.Fit(img, 100, 100, ResizeMode.CropAndResize);
        Assert.Equal((100, 100), (y0.Width, y0.Height));
        Assert.Equal(50f, y0[0, 0, 0]);
        Assert.Equal(149f, y0[99, 99, 0]);
        // Scaling up then cropping: 30×20 → 64×64 is k = 3.2 (96×64), crop 16 columns from each side.
        var small = new FloatImage(30, 20, 3, Enumerable.Repeat(0.25f, 30 * 20 * 3).ToArray());
        var up = ConditionImage.Fit(small, 64, 64, ResizeMode.CropAndResize);
        Assert.Equal((64, 64), (up.Width, up.Height));
        Assert.All(up.Data, v => Assert.Equal(0.25f, v, 5));
    }

    [Fact]
    public void ResizeAndFillPadsWithTheBorderMedian()
    {
        // 40×20 → 32×32: k = 0.8, the image becomes 32×16, centred at row 8 over the border's median colour.
        var px = Rgba(40, 20, (x, y) => x == 0 || y == 0 || x == 39 || y == 19 ? [255, 0, 0, 255] : [0, 0, 255, 255]);
        var img = ConditionImage.Prepare(px, 40, 20, 32, 32, ResizeMode.ResizeAndFill);
        Assert.Equal((32, 32), (img.Width, img.Height));
        Assert.Equal([1f, 0f, 0f], img.Data[..3]);                               // filled canvas
        Assert.Equal([1f, 0f, 0f], new[] { img[31, 5, 0], img[31, 5, 1], img[31, 5, 2] });
        Assert.Equal(0f, img[16, 16, 0], 5);                                        // image interior is blue
        Assert.Equal(1f, img[16, 16, 2], 5);
    }

    [Fact]
    public void BorderMedianAveragesTheTwoMiddleValuesOfAnEvenCount()
    {
        // 2×2 image: the border list is each pixel twice: values {0, 0, 1, 1, 3, 3, 10, 10} → (1 + 3) / 2.
        var img = new FloatImage(2, 2, 1, [0, 1, 3, 10]);
        Assert.Equal([2f], ConditionImage.BorderMedian(img));
    }

    [Fact]
    public void JustResizeStretchesAndChoosesAreaOrLanczosByPixelCount()
    {
        var img = new FloatImage(10, 10, 3, Enumerable.Range(0, 300).Select(i => i / 300f).ToArray());
        var shrink = ConditionImage.Fit(img, 5, 5, ResizeMode.JustResize);
        Assert.Equal(CvResize.Resize(img, 5, 5, CvInterpolation.Area).Data, shrink.Data);
        // 10×10 → 20×4 keeps fewer pixels, so it is INTER_AREA even though the width grows.
        Assert.Equal(CvResize.Resize(img, 20, 4, CvInterpolation.Area).Data, ConditionImage.Fit(img, 20, 4, ResizeMode.JustResize).Data);
        Assert.Equal(CvResize.Resize(img, 20, 6, CvInterpolation.Lanczos4).Data, ConditionImage.Fit(img, 20, 6, ResizeMode.JustResize).Data);
    }

    [Fact]
    public void VaeInputIsPlanarAndSigned()
    {
        var img = new FloatImage(2, 1, 3, [0f, 0.5f, 1f, 0.25f, 0.75f, 0f]);
        Assert.Equal([-1f, -0.5f, 0f, 0.5f, 1f, -1f], ConditionImage.ToVaeInput(img));
    }

    [Theory]
    [InlineData("Crop and Resize", ResizeMode.CropAndResize)]
    [InlineData("just-resize", ResizeMode.JustResize)]
    [InlineData("2", ResizeMode.ResizeAndFill)]
    [InlineData("fill", ResizeMode.ResizeAndFill)]
    public void ResizeModesParse(string text, ResizeMode mode) => Assert.Equal(mode, ResizeModes.Parse(text));

    [Fact]
    public void UnknownResizeModeNamesTheOption()
    {
        var e = Assert.Throws<InvalidSettingException>(() => ResizeModes.Parse("zoom"));
        Assert.Equal("ResizeMode", e.Setting);
        Assert.StartsWith("--resize-mode:", Cli.SettingNames.Message(e));
        Assert.Contains("zoom", e.Message);
    }
}
