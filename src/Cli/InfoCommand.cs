using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Pipelines;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `ld info FILE`: what a file is. A .safetensors file is named by kind (checkpoint, each LayerDiffusion file, a user
/// LoRA) and summarised; an image gets its format and size, and a PNG written by `ld` or Forge its infotext and the
/// LayerDiffusion settings read back from it.
/// </summary>
public static class InfoCommand
{
    public static int Run(ArgParser p)
    {
        if (p.Positional.Count != 1)
            throw new InvalidOptionException("FILE", p.Positional.Count == 0 ? "ld info needs one file" : $"ld info takes one file, not {p.Positional.Count}");
        string path = p.Positional[0];
        // A .safetensors name always goes to the safetensors reader (whose errors say what is wrong with the file).
        if (File.Exists(path) && !path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && !LooksLikeSafetensors(path))
        {
            DescribeImage(path);
            return CommandLine.ExitOk;
        }
        using var f = SafeTensorsFile.Open(path);
        Console.WriteLine($"kind: {ModelFileKinds.Classify(f).Description}");
        Console.Write(CheckpointInspector.Describe(f));
        return CommandLine.ExitOk;
    }

    /// <summary>A safetensors file starts with its header's length (little-endian u64) and then '{'.</summary>
    private static bool LooksLikeSafetensors(string path)
    {
        using var s = File.OpenRead(path);
        Span<byte> head = stackalloc byte[9];
        if (s.Read(head) < 9) return false;
        ulong len = BitConverter.ToUInt64(head);
        return head[8] == (byte)'{' && len <= (ulong)s.Length - 8;
    }

    private static void DescribeImage(string path)
    {
        var image = InputImage.Open("info", path, ImageLimits.Default);
        Console.WriteLine($"file: {path}");
        Console.WriteLine($"kind: {image.Format} image, {image.Width}x{image.Height}" + (image.Orientation != 1 ? $" (EXIF orientation {image.Orientation} applied)" : ""));
        if (image.Format != "PNG") return;
        var png = image.Decode();
        Console.WriteLine($"channels: {png.Channels}" + (png.HasAlpha ? " (with alpha)" : ""));
        if (png.GetText("parameters") is not { } text) return;
        Console.WriteLine("parameters:");
        Console.WriteLine(text);
        var parsed = Infotext.Parse(text);
        try
        {
            if (LayerInfotext.Read(parsed.Parameters) is { } ld)
                Console.WriteLine($"layerdiffusion: method {LayerMethods.Name(ld.Method)}, weight {Infotext.Number(ld.Weight)}, stop at {Infotext.Number(ld.StopAt)}, " +
                    $"resize mode {ResizeModes.Label(ld.ResizeMode)}");
        }
        catch (FormatException e)
        {
            Console.WriteLine($"layerdiffusion: {e.Message}");
        }
        catch (InvalidOptionException e)
        {
            Console.WriteLine($"layerdiffusion: {e.Message}");
        }
    }
}
