using LayerDiffusion.Native.LayerDiffusion;
using Xunit;

namespace LayerDiffusion.Native.Tests.Transparent;

public sealed class PadRgbTests
{
    private static byte[] Rgba(int w, int h, Func<int, int, (byte R, byte G, byte B, byte A)> f)
    {
        var px = new byte[w * h * 4];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var (r, g, b, a) = f(x, y);
                int i = (y * w + x) * 4;
                px[i] = r; px[i + 1] = g; px[i + 2] = b; px[i + 3] = a;
            }
        return px;
    }

    [Fact]
    public void OpaquePixelsKeepTheirColourExactly()
    {
        var rng = new System.Random(1);
        var px = Rgba(37, 23, (_, _) => ((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256), 255));
        var padded = PadRgb.Compute(px, 37, 23);
        for (int i = 0; i < 37 * 23; i++)
            for (int c = 0; c < 3; c++) Assert.Equal(px[i * 4 + c] / 255f, padded.Data[i * 3 + c]);
    }

    [Fact]
    public void TransparentPixelsContinueAUniformForeground()
    {
        // A red disc on nothing: every transparent pixel is filled with the disc's colour.
        var px = Rgba(50, 40, (x, y) => (x - 20) * (x - 20) + (y - 15) * (y - 15) < 64 ? ((byte)230, (byte)20, (byte)40, (byte)255) : ((byte)0, (byte)255, (byte)0, (byte)0));
        var padded = PadRgb.Compute(px, 50, 40);
        for (int i = 0; i < 50 * 40; i++)
        {
            Assert.Equal(230 / 255f, padded.Data[i * 3], 4);
            Assert.Equal(20 / 255f, padded.Data[i * 3 + 1], 4);
            Assert.Equal(40 / 255f, padded.Data[i * 3 + 2], 4);
        }
    }

    [Fact]
    public void FullyTransparentImageIsBlack()
    {
        var px = Rgba(9, 30, (_, _) => (200, 200, 200, 0));
        Assert.All(PadRgb.Compute(px, 9, 30).Data, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void FillBlendsNearbyColoursSmoothly()
    {
        // Left quarter opaque black, right quarter opaque white: the transparent middle ramps between them.
        var px = Rgba(64, 8, (x, _) => x < 16 ? ((byte)0, (byte)0, (byte)0, (byte)255) : x >= 48 ? ((byte)255, (byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0, (byte)0));
        var padded = PadRgb.Compute(px, 64, 8);
        float prev = -1;
        for (int x = 16; x < 48; x++)
        {
            float v = padded.Data[(4 * 64 + x) * 3];
            Assert.InRange(v, 0f, 1f);
            Assert.True(v >= prev - 1e-6f, $"not monotone at x = {x}");
            prev = v;
        }
        Assert.True(padded.Data[(4 * 64 + 20) * 3] < 0.5f && padded.Data[(4 * 64 + 44) * 3] > 0.5f);
    }
}
