namespace LayerDiffusion.Native.Verify;

/// <summary>Every golden case this engine can reproduce. Each runner lives in Verify/Cases, one file per case.</summary>
public static class CaseRunners
{
    public static IReadOnlyList<ICaseRunner> All { get; } =
    [
        new Cases.VectorCondCase(),
        new Cases.RngTorchCpuCase(),
        new Cases.RngTorchCudaCase(),
    ];
}
