namespace LayerDiffusion.Native.Models.Clip;

/// <summary>The two key layouts SDXL checkpoints store their text encoders in.</summary>
public enum ClipLayout
{
    /// <summary>Hugging Face CLIPTextModel (CLIP-L): separate q/k/v projections, QuickGELU.</summary>
    HuggingFace,
    /// <summary>OpenCLIP (bigG): fused in_proj [q; k; v], exact GELU, text_projection applied as x @ P.</summary>
    OpenClip,
}
