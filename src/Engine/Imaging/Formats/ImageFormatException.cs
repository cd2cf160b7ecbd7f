namespace LayerDiffusion.Native.Imaging.Formats;

/// <summary>An input image the engine cannot read: an unsupported format, or a file that is truncated or corrupt.</summary>
public sealed class ImageFormatException : LdException
{
    public string File { get; }

    public ImageFormatException(string file, string message) : base($"{file}: {message}") => File = file;
    public ImageFormatException(string file, string message, Exception inner) : base($"{file}: {message}", inner) => File = file;
}
