using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Models.Vae;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Pipelines.Memory;

/// <summary>One phase of a run and the memory it needs at least (weights resident then, plus its activations).</summary>
public sealed record PhaseNeed(string Phase, long WeightBytes, long ActivationBytes)
{
    public long Bytes => WeightBytes + ActivationBytes;
}

/// <summary>
/// A lower bound on a generation's memory, from the model files' headers and the requested size, before anything
/// is allocated: where the run keeps its tensors (the CPU's RAM, or the GPU's memory), phase by phase, and the host
/// buffers every run needs for its images. Counted are only tensors the pipeline cannot avoid holding at once (the
/// weights resident in the phase, the UNet's skip connections and two working maps at the first level, three
/// full-resolution maps of the VAE decoder's last block (one tile's worth where the GPU falls back to tiling), three
/// of the transparent decoder's first block per batched pass), so a run refused on this bound could not have fit.
/// </summary>
public sealed record WorkingSetEstimate(string Where, IReadOnlyList<PhaseNeed> Phases, long HostBufferBytes)
{
    /// <summary>The largest phase (on the CPU the weights of every network stay loaded, so they are in every phase).</summary>
    public PhaseNeed Peak => Phases.MaxBy(p => p.Bytes)!;

    /// <summary>What the run's tensors need at least where they live.</summary>
    public long TensorBytes => Peak.Bytes;

    /// <summary>Host memory at least: the images' buffers, plus the tensors when they live on the host.</summary>
    public long HostBytes => HostBufferBytes + (Where == "cpu" ? TensorBytes : 0);

    public static WorkingSetEstimate For(ModelPaths paths, GenerationSettings s, IBackend backend, bool encodesImages)
    {
        using var checkpoint = SafeTensorsFile.Open(paths.Checkpoint);
        var family = Models.ModelFamily.Detect(checkpoint);
        var unet = UnetConfig.Infer(checkpoint, family.UnetPrefix, family.UnetHeads);
        var vae = NetworkPrecision.ForVae(backend);
        int e = ElementBytes(backend), eVae = ElementBytes(vae);
        bool onCpu = backend is not CudaBackend;

        long unetWeights = Weights(checkpoint, p => p.StartsWith(SdxlUnet.CheckpointPrefix, StringComparison.Ordinal), e);
        long vaeWeights = Weights(checkpoint, p => p.StartsWith(SdxlVae.CheckpointPrefix, StringComparison.Ordinal), eVae);
        long textWeights = Weights(checkpoint, p => !p.StartsWith(SdxlUnet.CheckpointPrefix, StringComparison.Ordinal)
            && !p.StartsWith(SdxlVae.CheckpointPrefix, StringComparison.Ordinal), e);
        long decoderWeights = 0, encoderWeights = 0;
        int decoderBase = 0;
        if (paths.TransparentDecoder is { } dp && LayerMethods.OutputsTransparent(s.Method))
        {
            using var d = SafeTensorsFile.Open(dp);
            decoderWeights = Weights(d, _ => true, eVae);
            decoderBase = d.Contains("conv_in.weight") ? d.Dims("conv_in.weight")[0] : 0;
        }
        if (paths.TransparentEncoder is { } ep && encodesImages && s.Method is LayerMethod.Attn or LayerMethod.Conv)
        {
            using var enc = SafeTensorsFile.Open(ep);
            encoderWeights = Weights(enc, _ => true, eVae);
        }

        long H = s.Height, W = s.Width, h = H / 8, w = W / 8;
        long unetActivations = UnetActivations(unet, h * w) * s.Batch * e;
        int vaeLast = Dim(checkpoint, SdxlVae.CheckpointPrefix + "decoder.norm_out.weight");
        int vaeFirst = Dim(checkpoint, SdxlVae.CheckpointPrefix + "encoder.conv_in.weight");
        // The GPU decodes in 64-latent tiles when the whole image does not fit (--vae-tile forces a size anywhere).
        int tile = s.VaeTile > 0 ? s.VaeTile : onCpu ? 0 : 64;
        long vaeSide(long side) => tile > 0 ? Math.Min(side, 8L * tile) : side;
        long vaeDecode = 3L * vaeLast * vaeSide(H) * vaeSide(W) * eVae;
        long vaeEncode = encodesImages ? 3L * vaeFirst * H * W * eVae : 0;
        long padded(long side) => (side + 63) / 64 * 64;
        long decoderPass = 3L * decoderBase * padded(H) * padded(W) * eVae * Math.Max(1, s.DecoderBatch);

        List<PhaseNeed> phases;
        if (onCpu)
        {
            // The CPU keeps every network loaded (fp32) for the whole run.
            long all = unetWeights + vaeWeights + textWeights + decoderWeights + encoderWeights;
            phases =
            [
                new("condition", all, vaeEncode),
                new("sample", all, unetActivations),
                new("vae_decode", all, vaeDecode),
                new("transparent_decode", all, decoderPass),
            ];
        }
        else
        {
            // The GPU frees the text encoders after encoding and the UNets after sampling.
            phases =
            [
                new("text", textWeights, 0),
                new("condition", vaeWeights + encoderWeights, vaeEncode),
                new("sample", unetWeights + vaeWeights + encoderWeights, unetActivations),
                new("vae_decode", vaeWeights + encoderWeights, vaeDecode),
                new("transparent_decode", vaeWeights + encoderWeights + decoderWeights, decoderPass),
            ];
        }
        // Per image: RGB, RGBA and preview bytes; once: the VAE's float pixels and the decoder's float RGBA.
        long hostBuffers = s.Batch * 10L * H * W + (12L + 16L) * H * W;
        return new WorkingSetEstimate(onCpu ? "cpu" : "gpu", phases, hostBuffers);
    }

    /// <summary>
    /// `ld decode`: the transparent decoder (one pass) on a <paramref name="height"/> x <paramref name="width"/> image,
    /// after the checkpoint's VAE decodes the latent when <paramref name="checkpoint"/> is given.
    /// </summary>
    public static WorkingSetEstimate ForDecode(string decoderPath, string? checkpoint, int height, int width, IBackend backend)
    {
        var vae = NetworkPrecision.ForVae(backend);
        int eVae = ElementBytes(vae);
        bool onCpu = backend is not CudaBackend;
        using var d = SafeTensorsFile.Open(decoderPath);
        long decoderWeights = Weights(d, _ => true, eVae);
        long padded(long side) => (side + 63) / 64 * 64;
        long decoderPass = 3L * Dim(d, "conv_in.weight") * padded(height) * padded(width) * eVae;
        var phases = new List<PhaseNeed> { new("transparent_decode", decoderWeights, decoderPass) };
        if (checkpoint is not null)
        {
            using var c = SafeTensorsFile.Open(checkpoint);
            long vaeWeights = Weights(c, p => p.StartsWith(SdxlVae.CheckpointPrefix, StringComparison.Ordinal), eVae);
            long vaeDecode = 3L * Dim(c, SdxlVae.CheckpointPrefix + "decoder.norm_out.weight") * height * width * eVae;
            phases.Add(new("vae_decode", vaeWeights + (onCpu ? decoderWeights : 0), vaeDecode));
            if (onCpu) phases[0] = phases[0] with { WeightBytes = decoderWeights + vaeWeights };
        }
        return new WorkingSetEstimate(onCpu ? "cpu" : "gpu", phases, (10L + 12L + 16L) * height * width);
    }

    /// <summary>
    /// Activation elements per image the UNet holds at least: every input block's output waits for its skip
    /// connection, and a ResBlock at the first level has its input and output at once.
    /// </summary>
    public static long UnetActivations(UnetConfig c, long latentPixels)
    {
        long skips = (long)c.ModelChannels * latentPixels; // conv_in
        long pixels = latentPixels;
        for (int level = 0; level < c.ChannelMult.Length; level++)
        {
            long width = (long)c.ModelChannels * c.ChannelMult[level];
            skips += c.NumResBlocks * width * pixels;
            if (level + 1 < c.ChannelMult.Length)
            {
                pixels /= 4;
                skips += width * pixels; // the downsampler's output
            }
        }
        return skips + 2L * c.ModelChannels * c.ChannelMult[0] * latentPixels;
    }

    private static int ElementBytes(IBackend b) => Backends.Ledger.RecordingBackend.Unwrap(b) is CudaBackend cuda ? DTypes.Size(cuda.StorageType) : sizeof(float);

    private static long Weights(SafeTensorsFile f, Func<string, bool> include, int elementBytes) =>
        f.Tensors.Values.Where(t => DTypes.IsFloat(t.DType) && include(t.Name)).Sum(t => t.ElementCount) * elementBytes;

    private static int Dim(SafeTensorsFile f, string name) => f.Contains(name) ? f.Dims(name)[0] : 0;
}
