namespace LayerDiffusion.Native.Verify;

/// <summary>Every golden case this engine can reproduce. Each runner lives in Verify/Cases, one file per case.</summary>
public static class CaseRunners
{
    public static IReadOnlyList<ICaseRunner> All { get; } =
    [
        new Cases.VectorCondCase(),
        new Cases.UnetForwardCase(),
        new Cases.VaeCase(),
        new Cases.UnetPatchedCase(),
        new Cases.TransparentDecoderCase(),
        new Cases.TokenizerClipBpeCase(),
        new Cases.TextEncodersCase(),
        new Cases.PromptConditioningCase(),
        new Cases.TransparentEncoderCase(),
        new Cases.RngTorchCpuCase(),
        new Cases.RngTorchCudaCase(),
        new Cases.E2eTransparentCase(),
        new Cases.SamplersCase(),
        new Cases.SamplerUnipcCase(),
        new Cases.SamplerLayerCase(),
        new Cases.SamplersMoreCase(),
        new Cases.BrownianTreeCase(),
        new Cases.Sd15TextEncoderCase(),
        new Cases.UnetForwardCase("sd15_unet_forward"),
        new Cases.Sd15AttentionSharingCase(),
        new Cases.Sd15SamplerJointCase(),
        new Cases.Sd15E2eCase("sd15_e2e_fg2bg"),
        new Cases.Sd15E2eCase("sd15_e2e_joint"),
    ];
}
