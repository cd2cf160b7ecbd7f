namespace LayerDiffusion.Native.Imaging;

/// <summary>
/// How large an input image may be, checked from its header before any pixel is decoded: a small file can declare a
/// huge image (a 1 MB PNG of 16384x16384 inflates to 1 GiB of pixels and several more in the float copies the
/// pipeline makes). The default admits 8192x8192; `--max-image-pixels` raises or lowers it.
/// </summary>
public sealed record ImageLimits(long MaxPixels)
{
    /// <summary>64 MP: 8192 x 8192, twice the largest side SDXL is used at.</summary>
    public const long DefaultMaxPixels = 8192L * 8192;

    /// <summary>The option that sets <see cref="MaxPixels"/>.</summary>
    public const string Option = "--max-image-pixels";

    public static ImageLimits Default { get; } = new(DefaultMaxPixels);

    /// <summary>Throws naming the option and the file when a <paramref name="width"/> x <paramref name="height"/> image is over the limit.</summary>
    public void Check(string option, string path, long width, long height)
    {
        long pixels = width * height;
        if (pixels > MaxPixels)
            throw new InvalidOptionException(option,
                $"{path}: is {width}x{height} = {pixels:N0} pixels, over the limit of {MaxPixels:N0} (raise it with {Option} N; nothing was decoded)");
    }
}
