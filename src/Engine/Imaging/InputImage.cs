using LayerDiffusion.Native.Imaging.Formats;
using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging;

/// <summary>
/// An input image named by an option (--fg, --bg, --blend, --init, --rgb), opened in two steps so that nothing large
/// happens before the image is known to be acceptable: <see cref="Open"/> recognises the format by its magic bytes
/// (<see cref="ImageFormats"/>: PNG, JPEG, BMP, GIF, TGA), reads the header, checks the size against the
/// <see cref="ImageLimits"/>, reads the file only as far as that size allows (a device such as /dev/zero, a pipe or
/// an oversized file fails at once) and checks its structure; <see cref="Decode"/> then decodes the pixels and turns
/// them as the EXIF orientation says. Every error names the option and the file.
/// </summary>
public sealed class InputImage
{
    private readonly byte[] _bytes;
    private readonly ImageFormat _format;
    private readonly ImageHeader _header;

    private InputImage(string option, string path, ImageFormat format, ImageHeader header, int orientation, byte[] bytes)
    {
        Option = option;
        Path = path;
        _format = format;
        _header = header;
        Orientation = orientation;
        bool swap = ExifOrientation.SwapsAxes(orientation);
        Width = swap ? header.Height : header.Width;
        Height = swap ? header.Width : header.Height;
        _bytes = bytes;
    }

    public string Option { get; }
    public string Path { get; }
    /// <summary>The format's name ("PNG", "JPEG", ...).</summary>
    public string Format => _format.Name;
    /// <summary>The EXIF orientation (1–8) that <see cref="Decode"/> applies.</summary>
    public int Orientation { get; }
    /// <summary>The size as the image is seen, after its orientation (nothing is decoded yet).</summary>
    public int Width { get; }
    public int Height { get; }

    /// <summary>How far a header may lie into the file (JPEG segments before the frame header: EXIF, ICC, XMP).</summary>
    private const int FirstRead = 1 << 16, MaxHeaderSearch = 64 << 20;

    public static InputImage Open(string option, string path, ImageLimits limits)
    {
        if (Directory.Exists(path)) throw new InvalidOptionException(option, $"{path}: is a folder, not an image") { Kind = ErrorKind.FileAccess };
        if (!File.Exists(path)) throw new InvalidOptionException(option, $"{path}: file not found") { Kind = ErrorKind.FileAccess };
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var head = new MemoryStream();
            bool ended = ReadMore(stream, head, FirstRead);
            var format = ImageFormats.Detect(head.GetBuffer().AsSpan(0, (int)Math.Min(head.Length, ImageFormats.SniffBytes)), path);
            ImageHeader? peeked;
            while ((peeked = format.Peek(head.GetBuffer().AsSpan(0, (int)head.Length), ended, path)) is null)
            {
                if (head.Length >= MaxHeaderSearch)
                    throw new ImageFormatException(path, $"{format.Name}: no image header in the first {MaxHeaderSearch:N0} bytes");
                ended = ReadMore(stream, head, (int)head.Length);
            }
            var header = peeked.Value;
            limits.Check(option, path, header.Width, header.Height);
            var bytes = ReadBounded(option, path, format, stream, head, ended, header);
            int orientation = format.Check(bytes, header, path);
            return new InputImage(option, path, format, header, orientation, bytes);
        }
        catch (Exception e) when (e is PngFormatException or ImageFormatException)
        {
            throw new InvalidOptionException(option, e.Message) { Kind = ErrorKind.FileAccess };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOptionException(option, $"{path}: cannot read ({e.Message})") { Kind = ErrorKind.FileAccess };
        }
    }

    /// <summary>Appends up to <paramref name="count"/> bytes; true when the stream has ended.</summary>
    private static bool ReadMore(Stream stream, MemoryStream into, int count)
    {
        var buffer = new byte[Math.Max(count, 1)];
        int got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        into.Write(buffer, 0, got);
        return got < buffer.Length;
    }

    /// <summary>
    /// The whole file after what was read already, refusing to read past what a file of the header's size takes
    /// (checked up front where the length is known); a format read only in part (a GIF's first frame) stops there.
    /// </summary>
    private static byte[] ReadBounded(string option, string path, ImageFormat format, Stream stream, MemoryStream head, bool ended, ImageHeader header)
    {
        long maxBytes = Math.Min(header.MaxFileBytes, Array.MaxLength);
        string TooLarge(string size) =>
            $"{path}: {size} is more than a {header.Width}x{header.Height} {format.Name} can take ({maxBytes:N0} bytes); the file is corrupt";
        if (head.Length > maxBytes && !format.ReadsPrefix) throw new InvalidOptionException(option, TooLarge($"{head.Length:N0} bytes"));
        if (stream.CanSeek && stream.Length > maxBytes && !format.ReadsPrefix) throw new InvalidOptionException(option, TooLarge($"{stream.Length:N0} bytes"));
        var all = head;
        if (!ended)
        {
            all.Capacity = (int)Math.Max(head.Length, Math.Min(stream.CanSeek ? stream.Length : head.Length + (1 << 16), maxBytes));
            var buffer = new byte[1 << 16];
            int n;
            while (all.Length < maxBytes && (n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, maxBytes - all.Length + 1))) > 0)
            {
                if (all.Length + n > maxBytes)
                {
                    if (!format.ReadsPrefix) throw new InvalidOptionException(option, TooLarge("the data read so far"));
                    n = (int)(maxBytes - all.Length);
                }
                all.Write(buffer, 0, n);
            }
        }
        return all.Length > maxBytes ? all.GetBuffer()[..(int)maxBytes] : all.ToArray();
    }

    /// <summary>Decodes the pixels (8-bit; grey, grey + alpha, RGB or RGBA) and applies the EXIF orientation.</summary>
    public PngImage Decode()
    {
        try
        {
            return ExifOrientation.Apply(_format.Decode(_bytes, _header, Path), Orientation);
        }
        catch (Exception e) when (e is PngFormatException or ImageFormatException)
        {
            throw new InvalidOptionException(Option, e.Message) { Kind = ErrorKind.FileAccess };
        }
    }

    /// <summary>Open and decode in one step, for callers with nothing to check in between.</summary>
    public static PngImage Read(string option, string path, ImageLimits limits) => Open(option, path, limits).Decode();
}
