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

/// <summary>
/// A setting of the engine's API (<see cref="Pipelines.GenerationSettings"/>, <see cref="Pipelines.ModelPaths"/>,
/// <see cref="EngineOptions"/>, the inputs) that is out of range, missing or does not fit the models.
/// <see cref="Setting"/> names it as the API spells it ("Width", "LayerModel"; "Width/Height" for a pair). The
/// message refers to other settings by the same names; a front end with other names for them (the CLI's options)
/// renders the message with <see cref="Render"/>.
/// </summary>
public sealed class InvalidSettingException : LdException
{
    private const char Open = '⟪', Close = '⟫';

    /// <param name="setting">The setting's API name ("Width/Height" for a pair).</param>
    /// <param name="detail">What is wrong; other settings are written <see cref="Ref"/>(name).</param>
    public InvalidSettingException(string setting, string detail) : base(Format(setting, detail, name => name))
    {
        Setting = setting;
        Detail = detail;
    }

    public string Setting { get; }
    /// <summary>The detail with its setting references still marked (see <see cref="Render"/>).</summary>
    public string Detail { get; }

    /// <summary>A reference to another setting inside a detail, rendered by <see cref="Render"/>.</summary>
    public static string Ref(string setting) => $"{Open}{setting}{Close}";

    /// <summary>The message with every setting name passed through <paramref name="name"/> (e.g. to a CLI option).</summary>
    public string Render(Func<string, string> name) => Format(Setting, Detail, name);

    private static string Format(string setting, string detail, Func<string, string> name)
    {
        var text = new System.Text.StringBuilder(string.Join("/", setting.Split('/').Select(name))).Append(": ");
        for (int i = 0; i < detail.Length; i++)
        {
            int close = detail[i] == Open ? detail.IndexOf(Close, i + 1) : -1;
            if (close < 0) { text.Append(detail[i]); continue; }
            text.Append(name(detail[(i + 1)..close]));
            i = close;
        }
        return text.ToString();
    }
}
