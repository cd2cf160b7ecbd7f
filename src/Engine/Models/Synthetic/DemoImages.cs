using LayerDiffusion.Native.Imaging.Png;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>
/// The demo's input images, so `ld layer --demo` and `ld img2img --demo` run with nothing given: a 64x64 RGBA
/// foreground (an opaque disc with a soft edge on transparency), an opaque background (a diagonal gradient) and their
/// blend (the disc composited over the gradient), written as PNGs beside the demo models on first use.
/// </summary>
public static class DemoImages
{
    public const int Size = 64;

    /// <summary>The file for an input option (--fg, --bg, --blend, --init: the foreground), written if missing.</summary>
    public static string For(string option, string dir)
    {
        string name = option switch { "--bg" => "background", "--blend" => "blend", _ => "foreground" };
        string path = Path.Combine(dir, $"demo_{name}.png");
        if (File.Exists(path)) return path;
        Directory.CreateDirectory(dir);
        var px = new byte[Size * Size * 4];
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                int i = (y * Size + x) * 4;
                double r = Math.Sqrt((x - 31.5) * (x - 31.5) + (y - 31.5) * (y - 31.5));
                double alpha = Math.Clamp(20 - r, 0, 1); // the disc: radius 20, one pixel of soft edge
                byte[] fg = [220, 60, 40], bg = [(byte)(x * 4), (byte)(y * 4), 160];
                for (int c = 0; c < 3; c++)
                    px[i + c] = name switch
                    {
                        "background" => bg[c],
                        "blend" => (byte)Math.Round(fg[c] * alpha + bg[c] * (1 - alpha)),
                        _ => fg[c],
                    };
                px[i + 3] = name == "foreground" ? (byte)Math.Round(alpha * 255) : (byte)255;
            }
        string tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        PngWriter.Write(tmp, px, Size, Size, 4);
        File.Move(tmp, path, overwrite: true);
        return path;
    }
}
