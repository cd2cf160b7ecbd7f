namespace LayerDiffusion.Native;

/// <summary>What kind of failure an <see cref="LdException"/> is: the CLI's exit code, an embedder's error category.</summary>
public enum ErrorKind
{
    /// <summary>A bad option, argument or input value (the CLI's exit 2).</summary>
    Input,
    /// <summary>A file that cannot be read or written: missing, unreadable, not a valid image, a full disk (exit 3).</summary>
    FileAccess,
    /// <summary>A model file that is not what it claims: bad safetensors, missing or misshaped tensors, a broken tokenizer (exit 4).</summary>
    ModelFile,
    /// <summary>The run does not fit in GPU memory or RAM: refused up front, or out of memory while running (exit 5).</summary>
    OutOfMemory,
    /// <summary>The run itself failed (a non-finite result, a device error) (exit 1).</summary>
    Failure,
}

/// <summary>Base of every error the engine reports to a user: the CLI prints the message alone and exits by <see cref="Kind"/>.</summary>
public class LdException : Exception
{
    public LdException(string message) : base(message) { }
    public LdException(string message, Exception inner) : base(message, inner) { }

    public ErrorKind Kind { get; init; } = ErrorKind.Input;
}

/// <summary>A file that is not what it claims to be (bad header, wrong layout, missing or misshaped tensor).</summary>
public sealed class ModelFormatException : LdException
{
    public string File { get; }
    public string? Tensor { get; }

    public ModelFormatException(string file, string? tensor, string message)
        : base(tensor is null ? $"{file}: {message}" : $"{file}: tensor '{tensor}': {message}")
    {
        Kind = ErrorKind.ModelFile;
        File = file;
        Tensor = tensor;
    }
}

/// <summary>An option or argument outside its valid range.</summary>
public sealed class InvalidOptionException : LdException
{
    public InvalidOptionException(string option, string message) : base($"{option}: {message}") { }
}
