namespace LayerDiffusion.Native.Pipelines;

/// <summary>An RGBA image in memory: 8-bit straight alpha, row-major, 4 bytes a pixel.</summary>
public sealed record RgbaImage(int Width, int Height, byte[] Pixels)
{
    public static RgbaImage FromPng(string path) => FromPng(Imaging.Png.PngReader.Read(path));

    /// <summary>
    /// Any decoded PNG as RGBA (grey is replicated, a missing alpha is opaque). An RGBA PNG's pixel buffer is taken
    /// over rather than copied (a large input image is held once); the PNG must not be changed afterwards.
    /// </summary>
    public static RgbaImage FromPng(Imaging.Png.PngImage png) => new(png.Width, png.Height, png.Channels == 4 ? png.Pixels : png.ToRgba());
}

/// <summary>The images a workflow starts from: condition images for the layer methods, the init image for img2img.</summary>
public sealed record GenerationInputs
{
    public RgbaImage? Foreground { get; init; }
    public RgbaImage? Background { get; init; }
    public RgbaImage? Blend { get; init; }
    public RgbaImage? Init { get; init; }
    public Imaging.ResizeMode ResizeMode { get; init; } = Imaging.ResizeMode.CropAndResize;
}
