using System.IO.Compression;
using LayerDiffusion.Native.Imaging.Png;
using Xunit;

namespace LayerDiffusion.Native.Tests.Imaging;

public sealed class PngWriterTests
{
    private static byte[] Noise(int n, int seed)
    {
        var b = new byte[n];
        new System.Random(seed).NextBytes(b);
        return b;
    }

    [Theory]
    [InlineData(1, 1, 4)]
    [InlineData(17, 9, 4)]
    [InlineData(64, 33, 3)]
    [InlineData(5, 8, 2)]
    [InlineData(3, 2, 1)]
    public void RoundTripsEveryChannelLayout(int w, int h, int channels)
    {
        var px = Noise(w * h * channels, w * 31 + h);
        // Some smooth rows too, so the filters other than None get chosen.
        for (int i = 0; i < px.Length / 2; i++) px[i] = (byte)(i / 3);
        var img = PngReader.Decode(PngWriter.Encode(px, w, h, channels), "rt.png");
        Assert.Equal((w, h, channels), (img.Width, img.Height, img.Channels));
        Assert.Equal(px, img.Pixels);
    }

    [Fact]
    public void InfotextRoundTripsAsTextLatin1OrItxt()
    {
        const string infotext = "an apple, high quality\nNegative prompt: bad, ugly\nSteps: 20, Sampler: Euler, CFG scale: 5, Seed: 12345, Size: 128x128";
        const string unicode = "狐狸 — fox 🦊";
        var bytes = PngWriter.Encode(new byte[3 * 2 * 4], 3, 2, 4, [new("parameters", infotext), new("Comment", unicode)]);
        var img = PngReader.Decode(bytes, "t.png");
        Assert.Equal(infotext, img.GetText("parameters"));
        Assert.Equal(unicode, img.GetText("Comment"));
        Assert.True(bytes.AsSpan().IndexOf("tEXtparameters\0"u8) > 0, "Latin-1 text goes in tEXt under 'parameters'");
        Assert.True(bytes.AsSpan().IndexOf("iTXtComment\0"u8) > 0, "non-Latin-1 text goes in iTXt");
        Assert.Null(img.GetText("missing"));
    }

    [Fact]
    public void OutputIsStandardPng()
    {
        var bytes = PngWriter.Encode(Noise(7 * 5 * 3, 1), 7, 5, 3);
        Assert.Equal(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }, bytes[..8]);
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        Assert.Equal(new byte[] { 0, 0, 0, 7, 0, 0, 0, 5, 8, 2, 0, 0, 0 }, bytes[16..29]);
        Assert.Equal("IEND"u8.ToArray(), bytes[^8..^4]);
        // The IDAT payload is a plain zlib stream of filter byte + row, 5 rows of 22 bytes.
        int at = bytes.AsSpan().IndexOf("IDAT"u8);
        int len = (bytes[at - 4] << 24) | (bytes[at - 3] << 16) | (bytes[at - 2] << 8) | bytes[at - 1];
        using var z = new ZLibStream(new MemoryStream(bytes, at + 4, len), CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        Assert.Equal(5 * 22, raw.Length);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => PngWriter.Encode(new byte[10], 2, 2, 3));
        Assert.Throws<ArgumentException>(() => PngWriter.Encode(new byte[10], 2, 1, 5));
        Assert.Throws<ArgumentException>(() => PngWriter.Encode(new byte[4], 1, 1, 4, [new("", "x")]));
        Assert.Throws<ArgumentException>(() => PngWriter.Encode(new byte[4], 1, 1, 4, [new(new string('k', 80), "x")]));
    }

    [Fact]
    public void WriteAndReadAFile()
    {
        string path = Path.Combine(TestPaths.TempDir(), "out.png");
        var px = Noise(4 * 3 * 4, 9);
        PngWriter.Write(path, px, 4, 3, 4, [new("parameters", "x")]);
        var img = PngReader.Read(path);
        Assert.Equal(px, img.Pixels);
        Assert.Equal("x", img.GetText("parameters"));
        var e = Assert.Throws<LdException>(() => PngWriter.Write(Path.Combine(path, "sub", "x.png"), px, 4, 3, 4));
        Assert.Contains("x.png", e.Message);
    }
}
