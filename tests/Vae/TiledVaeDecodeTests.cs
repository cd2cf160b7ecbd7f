using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Vae;
using Xunit;

namespace LayerDiffusion.Native.Tests.Vae;

public sealed class TiledVaeDecodeTests
{
    private static (SdxlVae Vae, float[] Z) Setup(int h, int w)
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var vae = SdxlVae.Load(CpuBackend.Instance, f);
        var rng = new System.Random(5);
        var z = Enumerable.Range(0, 4 * h * w).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        return (vae, z);
    }

    [Fact]
    public void OneTileCoveringTheLatentIsExact()
    {
        var (vae, z) = Setup(12, 10);
        var b = CpuBackend.Instance;
        var whole = b.ToHost(vae.Decode(b.FromHost(z, 1, 4, 12, 10)));
        var tiled = TiledVaeDecode.Decode(vae, b, z, 4, 12, 10, tile: 16, overlap: 4);
        Assert.Equal(whole, tiled);
    }

    [Fact]
    public void PixelsOutsideOverlapsComeFromTheirOwnTileAlone()
    {
        var (vae, z) = Setup(16, 24);
        var b = CpuBackend.Instance;
        const int tile = 8, overlap = 2;
        var tiled = TiledVaeDecode.Decode(vae, b, z, 4, 16, 24, tile, overlap);
        Assert.Equal(3 * 128 * 192, tiled.Length);
        Assert.All(tiled, v => Assert.True(float.IsFinite(v)));
        // The first tile, decoded by itself: latent rows and columns 0..7.
        var part = new float[4 * tile * tile];
        for (int c = 0; c < 4; c++)
            for (int y = 0; y < tile; y++)
                Array.Copy(z, (c * 16 + y) * 24, part, (c * tile + y) * tile, tile);
        var first = b.ToHost(vae.Decode(b.FromHost(part, 1, 4, tile, tile)));
        int own = 8 * (tile - overlap), H = 128, W = 192, P = 8 * tile;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < own; y++)
                for (int x = 0; x < own; x++)
                    Assert.Equal(first[(c * P + y) * P + x], tiled[(c * H + y) * W + x], 5);
        // Inside an overlap both tiles contribute: the seam is a blend, not the first tile's value.
        int seam = 8 * tile - 4;
        Assert.NotEqual(first[seam * P + 10], tiled[seam * W + 10]);
    }

    [Fact]
    public void TooSmallTileIsAnError()
    {
        var (vae, z) = Setup(8, 8);
        Assert.Throws<InvalidSettingException>(() => TiledVaeDecode.Decode(vae, CpuBackend.Instance, z, 4, 8, 8, tile: 4, overlap: 1));
    }
}
