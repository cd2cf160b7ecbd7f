using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion.Sd15;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Unet;
using Xunit;

namespace LayerDiffusion.Native.Tests.LayerDiffusion;

/// <summary>
/// Where the 32 attention-sharing units go: the extension's module_mapping_sd15 (hookers.layers.u ↔ UNet attention),
/// which this engine derives from the UNet configuration instead of a table; and the SD1.5 family from the keys.
/// </summary>
public sealed class AttentionSharingLayoutTests
{
    /// <summary>lib_layerdiffusion/attention_sharing.py's module_mapping_sd15, transformer block by transformer block.</summary>
    private static readonly string[] ExtensionMapping =
    [
        "input_blocks.1", "input_blocks.2", "input_blocks.4", "input_blocks.5", "input_blocks.7", "input_blocks.8",
        "output_blocks.3", "output_blocks.4", "output_blocks.5", "output_blocks.6", "output_blocks.7", "output_blocks.8",
        "output_blocks.9", "output_blocks.10", "output_blocks.11", "middle_block",
    ];

    private static IEnumerable<string> Expected() =>
        ExtensionMapping.SelectMany(b => new[] { $"{b}.1.transformer_blocks.0.attn1", $"{b}.1.transformer_blocks.0.attn2" });

    [Fact]
    public void TheRealSd15UnetGivesTheExtensionsModuleMapping()
    {
        // SD1.5: 320 channels × (1, 2, 4, 4), 2 ResBlocks a level, one transformer at the first three levels.
        var config = new UnetConfig(4, 4, 320, [1, 2, 4, 4], 2, [1, 1, 1, 1, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1], 1, 768, 0, 1280,
            AttentionHeads.Fixed(8));
        Assert.Equal(Expected(), AttentionSharingModel.ModulePaths(config));
    }

    [Fact]
    public void TheGoldenTinyCheckpointIsSd15WithTheSameMapping()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(TestPaths.GoldenSd15Dir, "tiny_sd15.safetensors"));
        var family = ModelFamily.Detect(file);
        Assert.Same(ModelFamily.Sd15, family);
        var config = UnetConfig.Infer(file, family.UnetPrefix, family.UnetHeads);
        Assert.Equal(0, config.AdmInChannels);
        Assert.Equal(Expected(), AttentionSharingModel.ModulePaths(config));
        using var sdxl = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        Assert.Same(ModelFamily.Sdxl, ModelFamily.Detect(sdxl));
    }

    [Fact]
    public void AFrozenPatcherFileIsNotAnAttentionSharingFile()
    {
        using var sd15 = SafeTensorsFile.Open(Path.Combine(TestPaths.GoldenSd15Dir, "layer_sd15_joint.safetensors"));
        Assert.True(AttentionSharingModel.Is(sd15));
        using var sdxlPatch = SafeTensorsFile.Open(TestPaths.Golden("patch_attn_lora.safetensors"));
        Assert.False(AttentionSharingModel.Is(sdxlPatch));
    }
}
