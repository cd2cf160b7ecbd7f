namespace LayerDiffusion.Native.Imaging.Png;

/// <summary>A PNG file the engine cannot read (not a PNG, truncated, corrupt, or a variant it does not handle).</summary>
public sealed class PngFormatException : LdException
{
    public string File { get; }

    public PngFormatException(string file, string message) : base($"{file}: {message}") => File = file;
    public PngFormatException(string file, string message, Exception inner) : base($"{file}: {message}", inner) => File = file;
}
