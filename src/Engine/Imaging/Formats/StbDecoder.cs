using LayerDiffusion.Native.Imaging.Png;
using StbImageSharp;

namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>
/// Pixels of the formats the engine does not decode itself (JPEG, BMP, GIF, TGA), through StbImageSharp, the pure C#
/// port of stb_image (MIT or Unlicense; no native code, NativeAOT-clean). Only files whose format, header and
/// structure the <see cref="ImageFormat"/> already checked get here.
/// </summary>
internal static class StbDecoder
{
    /// <summary>stb keeps its failure reason in a static field: one decode at a time keeps the message its own.</summary>
    private static readonly Lock Gate = new();

    public static PngImage Decode(ImageFormat format, byte[] file, ImageHeader header, string path)
    {
        ImageResult result;
        lock (Gate)
        {
            try
            {
                result = ImageResult.FromMemory(file, ColorComponents.Default);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // stb's own words ("bad huffman code", "bad Image Descriptor", ...) say what was wrong.
                string reason = e is InvalidOperationException && !string.IsNullOrEmpty(e.Message) ? e.Message : e.GetType().Name;
                throw new ImageFormatException(path, $"{format.Name}: corrupt or unsupported image data ({reason})", e);
            }
        }
        if (result.Width != header.Width || result.Height != header.Height)
            throw new ImageFormatException(path, $"{format.Name}: the header declares {header.Width}x{header.Height} but the decoder produced {result.Width}x{result.Height}");
        return new PngImage(result.Width, result.Height, (int)result.Comp, result.Data, []);
    }
}
