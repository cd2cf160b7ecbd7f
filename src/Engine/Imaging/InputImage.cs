using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging;

/// <summary>
/// An input image named by an option (--fg, --bg, --blend, --init, --rgb), opened in two steps so that nothing large
/// happens before the image is known to be acceptable: <see cref="Open"/> reads the header, checks the size against
/// the <see cref="ImageLimits"/>, and reads the file only as far as that size allows (a device such as /dev/zero, a
/// pipe or an oversized file fails at once); <see cref="Decode"/> then decodes the pixels. Every error names the
/// option and the file. Formats other than PNG plug in here, each with its own header check.
/// </summary>
public sealed class InputImage
{
    private readonly byte[] _bytes;

    private InputImage(string option, string path, int width, int height, byte[] bytes)
    {
        Option = option;
        Path = path;
        Width = width;
        Height = height;
        _bytes = bytes;
    }

    public string Option { get; }
    public string Path { get; }
    /// <summary>The size the header declares (nothing is decoded yet).</summary>
    public int Width { get; }
    public int Height { get; }

    public static InputImage Open(string option, string path, ImageLimits limits)
    {
        if (Directory.Exists(path)) throw new InvalidOptionException(option, $"{path}: is a folder, not an image") { Kind = ErrorKind.FileAccess };
        if (!File.Exists(path)) throw new InvalidOptionException(option, $"{path}: file not found") { Kind = ErrorKind.FileAccess };
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var head = new byte[PngReader.HeaderBytes];
            int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            var (width, height, maxBytes) = PngReader.PeekSize(head.AsSpan(0, got), path);
            limits.Check(option, path, width, height);
            var bytes = ReadBounded(option, path, stream, head.AsSpan(0, got), maxBytes, width, height);
            return new InputImage(option, path, width, height, bytes);
        }
        catch (PngFormatException e)
        {
            throw new InvalidOptionException(option, e.Message) { Kind = ErrorKind.FileAccess };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOptionException(option, $"{path}: cannot read ({e.Message})") { Kind = ErrorKind.FileAccess };
        }
    }

    /// <summary>The whole file, refusing to read past <paramref name="maxBytes"/> (checked up front where the length is known).</summary>
    private static byte[] ReadBounded(string option, string path, Stream stream, ReadOnlySpan<byte> head, long maxBytes, int width, int height)
    {
        maxBytes = Math.Min(maxBytes, Array.MaxLength);
        string TooLarge(string size) => $"{path}: {size} is more than a {width}x{height} PNG can take ({maxBytes:N0} bytes); the file is corrupt";
        if (stream.CanSeek && stream.Length > maxBytes) throw new InvalidOptionException(option, TooLarge($"{stream.Length:N0} bytes"));
        var all = new MemoryStream(stream.CanSeek ? (int)Math.Min(stream.Length, int.MaxValue) : 1 << 16);
        all.Write(head);
        var buffer = new byte[1 << 16];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            if (all.Length + n > maxBytes) throw new InvalidOptionException(option, TooLarge("the data read so far"));
            all.Write(buffer, 0, n);
        }
        return all.ToArray();
    }

    /// <summary>Decodes the pixels (8-bit; see <see cref="PngReader"/>).</summary>
    public PngImage Decode()
    {
        try
        {
            return PngReader.Decode(_bytes, Path);
        }
        catch (PngFormatException e)
        {
            throw new InvalidOptionException(Option, e.Message) { Kind = ErrorKind.FileAccess };
        }
    }

    /// <summary>Open and decode in one step, for callers with nothing to check in between.</summary>
    public static PngImage Read(string option, string path, ImageLimits limits) => Open(option, path, limits).Decode();
}
