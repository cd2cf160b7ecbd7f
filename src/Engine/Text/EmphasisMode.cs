namespace LayerDiffusion.Native.Text;

/// <summary>A1111/Forge's "Emphasis mode" option (sd_emphasis.py).</summary>
public enum EmphasisMode
{
    /// <summary>Attention syntax is not parsed at all: the whole prompt is one segment of weight 1 (BREAK included).</summary>
    None,
    /// <summary>Hidden states multiplied by the weights, then rescaled to the chunk's original mean (the default).</summary>
    Original,
    /// <summary>Hidden states multiplied by the weights, no rescaling.</summary>
    NoNorm,
}

public static class EmphasisModes
{
    /// <summary>Parses the option names A1111 uses ("Original", "No norm", "None"), case-insensitively.</summary>
    public static EmphasisMode Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "original" => EmphasisMode.Original,
        "no norm" or "nonorm" or "no-norm" => EmphasisMode.NoNorm,
        "none" => EmphasisMode.None,
        _ => throw new InvalidOptionException("emphasis", $"'{name}' is not one of Original, No norm, None"),
    };
}
