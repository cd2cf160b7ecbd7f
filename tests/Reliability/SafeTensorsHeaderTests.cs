using System.Text;
using LayerDiffusion.Native.IO;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// Headers that used to pass validation or end in an internal error: invalid UTF-8, byte counts that wrap past 2^64,
/// repeated keys, and files that are not regular files.
/// </summary>
public sealed class SafeTensorsHeaderTests
{
    private static string Write(byte[] header, int dataBytes = 0)
    {
        var all = new byte[8 + header.Length + dataBytes];
        BitConverter.GetBytes((ulong)header.Length).CopyTo(all, 0);
        header.CopyTo(all, 8);
        string path = Path.Combine(TestPaths.TempDir(), "h.safetensors");
        File.WriteAllBytes(path, all);
        return path;
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static ModelFormatException Rejects(string path, string expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void InvalidUtf8InATensorNameIsAClearError()
    {
        var header = Utf8("{\"we@ght\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}");
        header[Array.IndexOf(header, (byte)'@')] = 0xC3; // a lead byte followed by an ASCII letter: not UTF-8
        var e = Rejects(Write(header, 1), "not valid UTF-8");
        Assert.Contains("byte 12 of the file", e.Message); // 8 length bytes + {"we
    }

    [Fact]
    public void InvalidUtf8InAMetadataValueIsAClearError()
    {
        var header = Utf8("{\"__metadata__\":{\"format\":\"p#\"}}");
        header[Array.IndexOf(header, (byte)'#')] = 0xFF;
        Rejects(Write(header), "not valid UTF-8");
    }

    [Theory]
    [InlineData("[1073741824, 1073741824, 4]", "F32", "[0, 0]")]        // 2^62 elements x 4 bytes = 2^64, which wrapped to 0
    [InlineData("[2147483647, 2147483647, 2147483647]", "U8", "[0, 8]")] // the element count itself overflows
    [InlineData("[2147483647, 2147483647, 2]", "F64", "[0, 8]")]       // the count fits, the byte count does not
    public void ShapesWhoseByteCountOverflowAreRejected(string shape, string dtype, string offsets)
    {
        var path = Write(Utf8($"{{\"t\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}}}"), 8);
        var e = Rejects(path, "more than 2^63 bytes");
        Assert.Equal("t", e.Tensor);
    }

    [Fact]
    public void ARepeatedTensorNameIsRejected()
    {
        var path = Write(Utf8("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}"), 2);
        Assert.Equal("t", Rejects(path, "appears twice").Tensor);
    }

    [Theory]
    [InlineData("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", "key 'a' appears twice")]
    [InlineData("{\"__metadata__\":{},\"__metadata__\":{}}", "__metadata__ appears twice")]
    public void RepeatedMetadataIsRejected(string json, string expected) => Rejects(Write(Utf8(json)), expected);

    [Fact]
    public void ACharacterDeviceFailsAtOnce()
    {
        if (!File.Exists("/dev/zero")) return;
        var e = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open("/dev/zero").Dispose());
        Assert.Contains("/dev/zero", e.Message);
    }
}
