using System.Text;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

public sealed class SafeTensorsTests
{
    private static string WriteRaw(string dir, string name, byte[] bytes)
    {
        var p = Path.Combine(dir, name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private static byte[] WithHeader(string json, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(json);
        var all = new byte[8 + h.Length + dataBytes];
        BitConverter.GetBytes((ulong)h.Length).CopyTo(all, 0);
        h.CopyTo(all, 8);
        for (int i = 0; i < dataBytes; i++) all[8 + h.Length + i] = (byte)(i * 7 + 1);
        return all;
    }

    [Fact]
    public void WriterRoundTripsEveryDtype()
    {
        var dir = TestPaths.TempDir();
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        w.Add("f32", [2, 3], new float[] { 1, -2, 3.5f, 4, 5, 6 });
        w.Add("i64", [3], new long[] { -1, 0, long.MaxValue });
        w.Add("f16", DType.F16, [2], BitConverter.GetBytes((Half)1.5).Concat(BitConverter.GetBytes((Half)(-2))).ToArray());
        w.Add("bf16", DType.BF16, [1], BitConverter.GetBytes(IO.Convert.ToBFloat16(3.0f)));
        w.Add("u8", DType.U8, [4], new byte[] { 0, 1, 254, 255 });
        string path = Path.Combine(dir, "rt.safetensors");
        w.Write(path);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal(new float[] { 1, -2, 3.5f, 4, 5, 6 }, f.ReadFloat32("f32"));
        Assert.Equal(new[] { 2, 3 }, f.Info("f32").Shape);
        Assert.Equal(new long[] { -1, 0, long.MaxValue }, f.ReadInt64("i64"));
        Assert.Equal(new float[] { 1.5f, -2f }, f.ReadFloat32("f16"));
        Assert.Equal(new float[] { 3f }, f.ReadFloat32("bf16"));
        Assert.Equal(new byte[] { 0, 1, 254, 255 }, f.ReadBytesU8("u8"));
    }

    [Fact]
    public void EveryGoldenFileLoadsAndRoundTripsThroughTheWriter()
    {
        var dir = TestPaths.TempDir();
        var files = Directory.GetFiles(TestPaths.GoldenDir, "*.safetensors");
        Assert.NotEmpty(files);
        foreach (var path in files)
        {
            using var f = SafeTensorsFile.Open(path);
            Assert.NotEmpty(f.Tensors);
            string copy = Path.Combine(dir, Path.GetFileName(path));
            SafeTensorsWriter.CopyOf(f).Write(copy);
            using var g = SafeTensorsFile.Open(copy);
            Assert.Equal(f.Names.OrderBy(n => n, StringComparer.Ordinal), g.Names.OrderBy(n => n, StringComparer.Ordinal));
            foreach (var n in f.Names)
            {
                Assert.Equal(f.Info(n).DType, g.Info(n).DType);
                Assert.Equal(f.Info(n).Shape, g.Info(n).Shape);
                Assert.True(f.Bytes(n).SequenceEqual(g.Bytes(n)), $"{path}: {n} bytes differ after round trip");
            }
        }
    }

    public static TheoryData<string, byte[], string> HostileFiles() => new()
    {
        { "short", new byte[] { 1, 2, 3 }, "shorter than the 8-byte header length" },
        { "huge-header", BitConverter.GetBytes((ulong)1 << 40), "exceeds" },
        { "header-past-end", WithHeader("{}", 0)[..9], "runs past the end" },
        { "not-json", WithHeader("{not json", 0), "not valid JSON" },
        { "array-root", WithHeader("[1,2]", 0), "not a JSON object" },
        { "bad-dtype", WithHeader("{\"t\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "unknown dtype 'Q7'" },
        { "count-mismatch", WithHeader("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 8), "needs 16" },
        { "past-data", WithHeader("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8), "run past" },
        { "negative-dim", WithHeader("{\"t\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 16), "bad dimension" },
        { "overlap", WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "overlaps" },
        { "backwards", WithHeader("{\"t\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8), "bad data_offsets" },
        { "no-offsets", WithHeader("{\"t\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), "missing data_offsets" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void HostileOrTruncatedFilesGiveSpecificErrors(string name, byte[] bytes, string expected)
    {
        var path = WriteRaw(TestPaths.TempDir(), name + ".safetensors", bytes);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ErrorsNameTheTensor()
    {
        var path = WriteRaw(TestPaths.TempDir(), "t.safetensors", WithHeader("{\"weight.x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8));
        var e = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Equal("weight.x", e.Tensor);
    }

    [Fact]
    public void TruncatedGoldenCheckpointIsRejected()
    {
        var src = File.ReadAllBytes(TestPaths.Golden("tiny_sdxl.safetensors"));
        var path = WriteRaw(TestPaths.TempDir(), "trunc.safetensors", src[..(src.Length / 2)]);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains("past", e.Message);
    }
}
