using LayerDiffusion.Native.Imaging.Png;
using Xunit;

namespace LayerDiffusion.Native.Tests.Imaging;

public sealed class PngReaderTests
{
    private static PngImage Fixture(string b64) => PngReader.Decode(Convert.FromBase64String(b64), "fixture.png");

    [Fact]
    public void PaletteWithTransparencyAndLowBitDepthBecomesRgba()
    {
        var img = Fixture(PngFixtures.Palette2BitTrns);
        Assert.Equal((5, 3, 4), (img.Width, img.Height, img.Channels));
        byte[][] pal = [[10, 20, 30, 0], [200, 100, 0, 128], [0, 255, 128, 255], [255, 255, 255, 255]];
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 5; x++)
                Assert.Equal(pal[(x + 2 * y) % 4], img.Pixels.AsSpan((y * 5 + x) * 4, 4).ToArray());
    }

    [Fact]
    public void Adam7InterlacedRgbWithEveryFilterType()
    {
        var img = Fixture(PngFixtures.Adam7Rgb);
        Assert.Equal((9, 7, 3), (img.Width, img.Height, img.Channels));
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 9; x++)
                Assert.Equal(new[] { (byte)((x * 37 + y * 11) % 256), (byte)((x * 5 + y * 71) % 256), (byte)((x * 13 + 7) % 256) },
                    img.Pixels.AsSpan((y * 9 + x) * 3, 3).ToArray());
    }

    [Fact]
    public void SixteenBitSamplesKeepTheirHighByte()
    {
        var img = Fixture(PngFixtures.GreyAlpha16);
        Assert.Equal((3, 2, 2), (img.Width, img.Height, img.Channels));
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
            {
                Assert.Equal((byte)((x * 20000 + y * 1000 + 255) >> 8), img.Pixels[(y * 3 + x) * 2]);
                Assert.Equal((byte)((65535 - x * 30000) >> 8), img.Pixels[(y * 3 + x) * 2 + 1]);
            }
        var rgba = img.ToRgba();
        Assert.Equal(rgba[0], rgba[1]);
        Assert.Equal(img.Pixels[1], rgba[3]);
    }

    [Fact]
    public void OneBitGreyWithColourKeyGetsAlpha()
    {
        var img = Fixture(PngFixtures.Grey1BitKey);
        Assert.Equal((10, 2, 2), (img.Width, img.Height, img.Channels));
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 10; x++)
            {
                bool on = (x + y) % 2 == 1;
                Assert.Equal(on ? 255 : 0, img.Pixels[(y * 10 + x) * 2]);
                Assert.Equal(on ? 0 : 255, img.Pixels[(y * 10 + x) * 2 + 1]);
            }
    }

    [Fact]
    public void CompressedTextChunksAreRead()
    {
        var img = Fixture(PngFixtures.RgbaWithText);
        Assert.Equal((2, 2, 4), (img.Width, img.Height, img.Channels));
        Assert.Equal("café latin", img.GetText("Comment"));
        Assert.Equal("狐 fox, steps: 20", img.GetText("parameters"));
        Assert.Equal(new byte[] { 100, 100, 50, 129 }, img.Pixels.AsSpan(12, 4).ToArray());
    }

    [Fact]
    public void NotAPngIsRejectedNamingTheFile()
    {
        var e = Assert.Throws<PngFormatException>(() => PngReader.Decode("GIF89a...."u8, "photo.gif"));
        Assert.StartsWith("photo.gif: not a PNG", e.Message);
        Assert.Contains("photo.gif", Assert.Throws<PngFormatException>(() => PngReader.Decode([137, 80], "photo.gif")).Message);
    }

    [Fact]
    public void TruncatedFilesAreReportedAtEveryCut()
    {
        var full = Convert.FromBase64String(PngFixtures.Adam7Rgb);
        for (int cut = 8; cut < full.Length; cut++)
        {
            var e = Assert.Throws<PngFormatException>(() => PngReader.Decode(full.AsSpan(0, cut), "cut.png"));
            Assert.StartsWith("cut.png: ", e.Message);
            Assert.Contains("truncated", e.Message);
        }
    }

    [Fact]
    public void CorruptedBytesFailTheChunkCrc()
    {
        var data = Convert.FromBase64String(PngFixtures.Adam7Rgb);
        data[50] ^= 0x10;   // inside the IDAT payload (the IDAT chunk starts at byte 33)
        var e = Assert.Throws<PngFormatException>(() => PngReader.Decode(data, "bad.png"));
        Assert.Contains("CRC mismatch in chunk 'IDAT'", e.Message);
    }

    [Fact]
    public void CorruptDeflateDataWithValidCrcIsReported()
    {
        // Rebuild the IDAT with garbage that still carries a correct CRC.
        var img = PngWriter.Encode(new byte[16 * 3], 4, 4, 3);
        int idat = IndexOf(img, "IDAT"u8) - 4;
        int len = (img[idat] << 24) | (img[idat + 1] << 16) | (img[idat + 2] << 8) | img[idat + 3];
        for (int i = 0; i < len; i++) img[idat + 8 + i] = (byte)(0xA5 ^ i);
        uint crc = Crc32.Of("IDAT"u8, img.AsSpan(idat + 8, len));
        img[idat + 8 + len] = (byte)(crc >> 24); img[idat + 9 + len] = (byte)(crc >> 16);
        img[idat + 10 + len] = (byte)(crc >> 8); img[idat + 11 + len] = (byte)crc;
        var e = Assert.Throws<PngFormatException>(() => PngReader.Decode(img, "garbage.png"));
        Assert.StartsWith("garbage.png: ", e.Message);
        Assert.True(e.Message.Contains("corrupt image data") || e.Message.Contains("truncated image data"), e.Message);
    }

    [Fact]
    public void MissingFileIsReportedByPath()
    {
        string path = Path.Combine(TestPaths.TempDir(), "nope.png");
        var e = Assert.Throws<PngFormatException>(() => PngReader.Read(path));
        Assert.Equal($"{path}: file not found", e.Message);
    }

    [Fact]
    public void UnknownCriticalChunkIsRejected()
    {
        var img = PngWriter.Encode(new byte[4 * 4], 2, 2, 4);
        var chunk = new byte[12];
        "ABCD"u8.CopyTo(chunk.AsSpan(4));
        uint crc = Crc32.Of("ABCD"u8, []);
        chunk[8] = (byte)(crc >> 24); chunk[9] = (byte)(crc >> 16); chunk[10] = (byte)(crc >> 8); chunk[11] = (byte)crc;
        var spliced = img.Take(33).Concat(chunk).Concat(img.Skip(33)).ToArray();
        Assert.Contains("unsupported critical chunk 'ABCD'", Assert.Throws<PngFormatException>(() => PngReader.Decode(spliced, "x.png")).Message);
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> what) => data.AsSpan().IndexOf(what);
}
