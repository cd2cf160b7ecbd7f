using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Cli;

/// <summary>`--max-image-pixels N`: the input image size limit (<see cref="ImageLimits"/>), up to what the PNG reader can hold.</summary>
public static class ImageOptions
{
    public static ImageLimits Limits(ArgParser p) =>
        p.Has(ImageLimits.Option) ? new ImageLimits(p.Long(ImageLimits.Option, ImageLimits.DefaultMaxPixels, 1, PngReader.MaxPixels)) : ImageLimits.Default;
}
