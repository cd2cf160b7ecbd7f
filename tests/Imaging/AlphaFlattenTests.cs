using LayerDiffusion.Native.Imaging;
using Xunit;

namespace LayerDiffusion.Native.Tests.Imaging;

public sealed class AlphaFlattenTests
{
    [Fact]
    public void Div255RoundsToNearestOverTheWholeRange()
    {
        for (int v = 0; v <= 255 * 255; v++) Assert.Equal((int)Math.Round(v / 255.0), AlphaFlatten.Div255(v));
    }

    [Fact]
    public void FlattenPastesOverGrey127()
    {
        byte[] rgba = [10, 20, 30, 0, 10, 20, 30, 255, 255, 0, 100, 128];
        var rgb = AlphaFlatten.OverColor(rgba, 3, 1);
        Assert.Equal(new byte[] { 127, 127, 127, 10, 20, 30 }, rgb[..6]);
        Assert.Equal((byte)Math.Round((255 * 128 + 127 * 127) / 255.0), rgb[6]);
        Assert.Equal((byte)Math.Round((0 * 128 + 127 * 127) / 255.0), rgb[7]);
        Assert.Equal((byte)Math.Round((100 * 128 + 127 * 127) / 255.0), rgb[8]);
    }

    [Fact]
    public void SignedPlanarIsTwiceUnitMinusOne()
    {
        Assert.Equal([-1f, 1f, 2f * (127 / 255f) - 1f, -1f, 1f, 1f], AlphaFlatten.ToSignedPlanar([0, 127, 255, 255, 0, 255], 2, 1));
    }
}
