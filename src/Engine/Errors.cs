namespace LayerDiffusion.Native;

/// <summary>Base of every error the engine reports to a user: the CLI prints the message alone and exits 2.</summary>
public class LdException : Exception
{
    public LdException(string message) : base(message) { }
    public LdException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A file that is not what it claims to be (bad header, wrong layout, missing or misshaped tensor).</summary>
public sealed class ModelFormatException : LdException
{
    public string File { get; }
    public string? Tensor { get; }

    public ModelFormatException(string file, string? tensor, string message)
        : base(tensor is null ? $"{file}: {message}" : $"{file}: tensor '{tensor}': {message}")
    {
        File = file;
        Tensor = tensor;
    }
}

/// <summary>An option or argument outside its valid range.</summary>
public sealed class InvalidOptionException : LdException
{
    public InvalidOptionException(string option, string message) : base($"{option}: {message}") { }
}
