using LayerDiffusion.Native.Cli;
using System.Buffers.Binary;
using System.IO.Compression;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.Tests.CliFlows;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// Input images are checked from their header before any pixel is decoded, and read no further than that header
/// allows: a small file declaring a huge image, a device, or a file padded far past its image all fail at once.
/// </summary>
public sealed class InputImageTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A PNG whose header declares <paramref name="width"/>x<paramref name="height"/> RGBA, with one zlib block of a few zero rows as data.</summary>
    private string DeclaringPng(string name, int width, int height)
    {
        var ms = new MemoryStream();
        ms.Write(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 8; ihdr[9] = 6;
        Chunk(ms, "IHDR", ihdr);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(new byte[4 * width + 1]);
        Chunk(ms, "IDAT", z.ToArray());
        Chunk(ms, "IEND", []);
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, ms.ToArray());
        return path;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, head.AsSpan(4));
        s.Write(head);
        s.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc(head.AsSpan(4), data));
        s.Write(crc);
    }

    private static uint Crc(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (var span in new[] { type.ToArray(), data.ToArray() })
            foreach (byte b in span)
            {
                c ^= b;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }
        return ~c;
    }

    [Fact]
    public void AHugeDeclaredSizeIsRefusedFromTheHeaderNamingTheOption()
    {
        string path = DeclaringPng("huge.png", 16384, 16384);
        Assert.True(new FileInfo(path).Length < 2000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidOptionException>(() => InputImage.Open("--fg", path, ImageLimits.Default));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the check allocated like a decoder");
        Assert.StartsWith("--fg:", e.Message);
        Assert.Contains("16384x16384", e.Message);
        Assert.Contains(ImageLimits.Option, e.Message);
    }

    [Fact]
    public void ARaisedLimitAdmitsTheHeaderAndTheDataCheckStillAllocatesNothingLarge()
    {
        string path = DeclaringPng("huge.png", 16384, 16384);
        var image = InputImage.Open("--fg", path, new ImageLimits(1L << 28));
        Assert.Equal((16384, 16384), (image.Width, image.Height));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidOptionException>(image.Decode);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "a 1 KB file made the decoder allocate its declared size");
        Assert.Contains("compressed bytes cannot hold", e.Message);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    public void ADeviceFailsAtOnce(string device)
    {
        if (!File.Exists(device)) return;
        string link = Path.Combine(_dir, "image.png");
        File.CreateSymbolicLink(link, device);
        var e = Assert.Throws<InvalidOptionException>(() => InputImage.Open("--init", link, ImageLimits.Default));
        Assert.Contains("is not an image format ld reads", e.Message);
    }

    [Fact]
    public void AFileLongerThanItsImageCanBeIsRefusedWithoutReadingIt()
    {
        string path = CliFiles.WritePng(_dir, "padded.png", 4);
        using (var f = new FileStream(path, FileMode.Open)) f.SetLength(200L << 20); // sparse: no disk used
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidOptionException>(() => InputImage.Open("--blend", path, ImageLimits.Default));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("is more than a 64x64 PNG can take", e.Message);
    }

    [Fact]
    public void ALimitBelowTheImageRefusesIt()
    {
        string path = CliFiles.WritePng(_dir, "small.png", 4);
        var e = Assert.Throws<InvalidOptionException>(() => InputImage.Open("--bg", path, new ImageLimits(1000)));
        Assert.Contains("64x64 = 4,096 pixels, over the limit of 1,000", e.Message);
        Assert.Equal(64, InputImage.Open("--bg", path, new ImageLimits(4096)).Decode().Width);
    }

    [Fact]
    public void TheCliRefusesAHugeInitBeforeLoadingModels()
    {
        string path = DeclaringPng("init.png", 16384, 16384);
        var (code, _, stderr) = CliRunner.Run(["img2img", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--init", path,
            "--out", Path.Combine(_dir, "o.png"), .. CliFiles.Small]);
        Assert.Equal(2, code);
        Assert.Contains("--init:", stderr);
        Assert.Contains("16384x16384", stderr);
        var (raised, _, stderr2) = CliRunner.Run(["img2img", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--init", path,
            "--out", Path.Combine(_dir, "o.png"), "--max-image-pixels", "268435456", .. CliFiles.Small]);
        Assert.Equal(ExitCodes.FileAccess, raised); // a corrupt PNG
        Assert.Contains("compressed bytes cannot hold", stderr2);
    }

    [Fact]
    public void DecodeChecksTheRgbSizeFromItsHeader()
    {
        string rgb = DeclaringPng("rgb.png", 4096, 4096);
        string latent = Path.Combine(_dir, "latent.safetensors");
        new Native.IO.SafeTensorsWriter().Add("latent", [1, 4, 8, 8], new float[256]).Write(latent);
        var (code, _, stderr) = CliRunner.Run("decode", "--rgb", rgb, "--latent", latent,
            "--transparent-decoder", TestPaths.Golden("tiny_transparent_decoder.safetensors"), "--out", Path.Combine(_dir, "o.png"), "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("is 4096x4096, but the latent is for a 64x64 image", stderr);
    }
}
