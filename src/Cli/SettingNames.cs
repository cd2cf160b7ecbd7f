namespace LayerDiffusion.Native.Cli;

/// <summary>
/// The engine names its settings as its API does ("Width", "StopAt", "LayerModel"; see
/// <see cref="InvalidSettingException"/>); the CLI says them as the options that set them ("--width", "--stop-at",
/// "--layer-model"), so an error names what the user typed.
/// </summary>
public static class SettingNames
{
    private static readonly Dictionary<string, string> Unusual = new(StringComparer.Ordinal)
    {
        ["Checkpoint"] = "--model",
        ["Foreground"] = "--fg",
        ["Background"] = "--bg",
    };

    /// <summary>The option for an engine setting name: kebab-case unless it is spelt otherwise; names that are already
    /// options (or not settings) pass through.</summary>
    public static string Option(string setting)
    {
        if (Unusual.TryGetValue(setting, out var option)) return option;
        if (setting.Length == 0 || !char.IsUpper(setting[0]) || !setting.All(char.IsAsciiLetterOrDigit)) return setting;
        var text = new System.Text.StringBuilder("--");
        for (int i = 0; i < setting.Length; i++)
        {
            if (char.IsUpper(setting[i]) && i > 0) text.Append('-');
            text.Append(char.ToLowerInvariant(setting[i]));
        }
        return text.ToString();
    }

    /// <summary>An error's message as the CLI prints it: settings said as options.</summary>
    public static string Message(Exception e) => e is InvalidSettingException s ? s.Render(Option) : e.Message;
}
