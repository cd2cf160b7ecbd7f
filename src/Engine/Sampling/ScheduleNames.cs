namespace LayerDiffusion.Native.Sampling;

/// <summary>The names a schedule goes by: ours, Forge's scheduler name, label (what infotext writes) and aliases.</summary>
public static class ScheduleNames
{
    private sealed record Entry(ScheduleKind Kind, string Name, string ForgeLabel, string[] Aliases);

    // Forge's modules/sd_schedulers.py `schedulers` (name, label, aliases). Forge's "uniform" (the model's
    // get_sigmas) and "normal" (normal_scheduler) give the same sigmas for SD/SDXL and LCM models, so both are Normal.
    private static readonly Entry[] Table =
    [
        new(ScheduleKind.Normal, "normal", "Normal", ["uniform"]),
        new(ScheduleKind.Karras, "karras", "Karras", []),
        new(ScheduleKind.Exponential, "exponential", "Exponential", []),
        new(ScheduleKind.SgmUniform, "sgm_uniform", "SGM Uniform", ["SGMUniform"]),
        new(ScheduleKind.Simple, "simple", "Simple", []),
        new(ScheduleKind.Beta, "beta", "Beta", []),
        new(ScheduleKind.AlignYourSteps, "align_your_steps", "Align Your Steps", ["ays"]),
    ];

    private static readonly Dictionary<string, ScheduleKind> ByName = BuildLookup();

    private static Dictionary<string, ScheduleKind> BuildLookup()
    {
        var map = new Dictionary<string, ScheduleKind>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in Table)
        {
            map[e.Name] = e.Kind;
            map[e.ForgeLabel] = e.Kind;
            foreach (var a in e.Aliases) map[a] = e.Kind;
        }
        return map;
    }

    /// <summary>Every spelling accepted for a schedule (case-insensitive), longest first so suffix matching is greedy.</summary>
    internal static IEnumerable<(string Spelling, ScheduleKind Kind)> Spellings =>
        ByName.OrderByDescending(kv => kv.Key.Length).Select(kv => (kv.Key, kv.Value));

    public const string Valid = "automatic, normal (or uniform), karras, exponential, sgm_uniform, simple, beta, align_your_steps " +
        "(or Forge's labels such as \"SGM Uniform\", \"Align Your Steps\")";

    /// <summary>A schedule by our name, Forge's name, label or alias, ignoring case; null if unknown.</summary>
    public static ScheduleKind? Find(string name) => ByName.TryGetValue(name.Trim(), out var k) ? k : null;

    /// <summary>Our canonical name.</summary>
    public static string Name(this ScheduleKind kind) => Get(kind).Name;

    /// <summary>Forge's label, as its infotext's "Schedule type" writes it.</summary>
    public static string ForgeLabel(this ScheduleKind kind) => Get(kind).ForgeLabel;

    private static Entry Get(ScheduleKind kind) =>
        Array.Find(Table, e => e.Kind == kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown schedule");
}
