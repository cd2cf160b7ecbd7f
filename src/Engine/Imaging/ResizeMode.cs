namespace LayerDiffusion.Native.Imaging;

/// <summary>A1111's resize modes, with their UI numbering (0, 1, 2).</summary>
public enum ResizeMode
{
    /// <summary>Stretch to the target size.</summary>
    JustResize = 0,
    /// <summary>Scale to cover the target, then centre-crop (the layer workflows' default).</summary>
    CropAndResize = 1,
    /// <summary>Scale to fit inside the target, centre it over the median colour of the image's border.</summary>
    ResizeAndFill = 2,
}

public static class ResizeModes
{
    /// <summary>The UI label A1111 and the extension write ("Crop and Resize").</summary>
    public static string Label(ResizeMode mode) => mode switch
    {
        ResizeMode.JustResize => "Just Resize",
        ResizeMode.CropAndResize => "Crop and Resize",
        _ => "Resize and Fill",
    };

    /// <summary>Parses a UI label ("Crop and Resize"), a short name ("crop") or the number; throws naming the setting (an infotext passes its key).</summary>
    public static ResizeMode Parse(string value, string setting = "ResizeMode")
    {
        string v = value.Trim().ToLowerInvariant().Replace("_", " ").Replace("-", " ");
        return v switch
        {
            "0" or "just resize" or "resize" or "just" or "stretch" => ResizeMode.JustResize,
            "1" or "crop and resize" or "crop" => ResizeMode.CropAndResize,
            "2" or "resize and fill" or "fill" => ResizeMode.ResizeAndFill,
            _ => throw new InvalidSettingException(setting, $"unknown resize mode '{value}' (expected 'Just Resize', 'Crop and Resize' or 'Resize and Fill')"),
        };
    }
}
