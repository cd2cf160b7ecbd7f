using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>
/// What a header says before any pixel is decoded: the stored size, and the most bytes a sane file of that size
/// takes (a longer file is refused, or for <see cref="ImageFormat.ReadsPrefix"/> formats read no further).
/// </summary>
public readonly record struct ImageHeader(int Width, int Height, long MaxFileBytes);

/// <summary>
/// One input image format behind <see cref="InputImage"/>: recognised by its magic bytes, sized from its header,
/// checked whole for truncation and lying sizes (which a decoder would fill with zeros rather than report), then
/// decoded to 8-bit pixels. Every error names the file.
/// </summary>
public abstract class ImageFormat
{
    /// <summary>Room for metadata beside the pixels (EXIF and its thumbnail, ICC profiles, XMP, comments).</summary>
    protected const long MetadataAllowance = 64L << 20;

    /// <summary>The format's usual name ("JPEG"), used in messages.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The header from the first bytes of the file, or null when the header lies further on than
    /// <paramref name="head"/> reaches; <paramref name="wholeFile"/> says the head is the whole file (then null is
    /// not an answer: a missing header throws).
    /// </summary>
    public abstract ImageHeader? Peek(ReadOnlySpan<byte> head, bool wholeFile, string path);

    /// <summary>
    /// Checks the file's structure (truncation, sizes that its data cannot fill) and returns its EXIF orientation
    /// (<see cref="ExifOrientation.Normal"/> when it has none).
    /// </summary>
    public abstract int Check(ReadOnlySpan<byte> file, ImageHeader header, string path);

    /// <summary>Decodes the pixels as stored (orientation is the caller's).</summary>
    public abstract PngImage Decode(byte[] file, ImageHeader header, string path);

    /// <summary>True for formats of which only a first part is read (an animated GIF's first frame).</summary>
    public virtual bool ReadsPrefix => false;

    protected ImageFormatException Error(string path, string message) => new(path, $"{Name}: {message}");
}
