using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Vae;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Tests.Flows;
using LayerDiffusion.Native.Tests.Transparent;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// Cancellation (Ctrl-C, SIGTERM: `timeout` sends it) is checked inside the long phases, not only between sampler
/// steps: between the transparent decoder's passes and between VAE tiles, so a run stops within one pass or tile.
/// </summary>
public sealed class CancellationTests
{
    private static CancellationToken Cancelled()
    {
        var cts = new CancellationTokenSource();
        cts.Cancel();
        return cts.Token;
    }

    [Fact]
    public void TheTransparentDecoderStopsBetweenItsPasses()
    {
        var decoder = new TransparentDecoder(TransparentTestModels.Decoder([8, 8, 16, 16, 16], attentionLevels: 2)) { PassesPerCall = 1 };
        using var pixel = TransparentTestModels.Random(11, 1, 3, 32, 32);
        using var latent = TransparentTestModels.Random(12, 1, 4, 4, 4);
        Assert.ThrowsAny<OperationCanceledException>(() => decoder.DecodeAugmented(pixel, latent, Cancelled()));
    }

    [Fact]
    public void TheTiledVaeDecodeStopsBetweenTiles()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var vae = SdxlVae.Load(CpuBackend.Instance, f);
        var z = new float[4 * 16 * 16];
        for (int i = 0; i < z.Length; i++) z[i] = MathF.Sin(i);
        Assert.ThrowsAny<OperationCanceledException>(() => TiledVaeDecode.Decode(vae, CpuBackend.Instance, z, 4, 16, 16, tile: 8, overlap: 2, Cancelled()));
    }

    [Fact]
    public void ACancelAfterTheVaeDecodeStopsTheRunBeforeTheTransparentDecode()
    {
        using var models = FlowFixture.Models(LayerMethod.Attn);
        using var cts = new CancellationTokenSource();
        var ended = new List<string>();
        var pipeline = new LayerPipeline(models)
        {
            PhaseCallback = (phase, _) => { ended.Add(phase); if (phase == "vae_decode") cts.Cancel(); },
        };
        Assert.ThrowsAny<OperationCanceledException>(() => pipeline.Run(FlowFixture.Settings("attn", steps: 1), FlowFixture.Inputs("attn"), cts.Token));
        Assert.Equal(["text", "condition", "patch", "sample", "vae_decode"], ended);
    }
}
