using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Cli;

/// <summary>Forge's display names for samplers and schedule types, as its infotext writes them.</summary>
public static class SamplerDisplay
{
    public static string Name(SamplerKind k) => k switch
    {
        SamplerKind.Euler => "Euler",
        SamplerKind.EulerAncestral => "Euler a",
        SamplerKind.DpmPp2m => "DPM++ 2M",
        SamplerKind.DpmPp2mSde => "DPM++ 2M SDE",
        _ => "UniPC",
    };

    public static string Name(ScheduleKind k) => k switch
    {
        ScheduleKind.Karras => "Karras",
        ScheduleKind.Exponential => "Exponential",
        _ => "Automatic",
    };
}
