using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// The UNet over Forge's CFG batch built from encoded prompts: rows [negative × B, positive × B], each with its own
/// context and y, and the layer models' condition latents on every row (both CFG halves, every image: Forge drops
/// them for batch > 1; we broadcast). When the prompts have different chunk counts the halves run as two UNet calls,
/// as Forge does. Context, y and condition latents are uploaded once per run; the calls are UnetEpsModel's.
/// </summary>
public sealed class GuidedUnet
{
    private readonly UnetEpsModel? _both, _negative, _positive;

    public GuidedUnet(SdxlUnet unet, PromptEmbedding negative, PromptEmbedding positive, float[] yNeg, float[] yPos,
        int batch, int channels, int h, int w, float[]? concat)
    {
        var b = unet.Weights.Backend;
        Tensor Rows(float[] row, int[] rowShape)
        {
            var t = b.FromHost(row, rowShape);
            return batch == 1 ? t : b.Concat(0, Enumerable.Repeat(t, batch).ToArray());
        }
        Tensor[] conditions = concat is null ? [] : [b.FromHost(concat, 1, concat.Length / (h * w), h, w)];
        int inputs = channels + (concat is null ? 0 : concat.Length / (h * w));
        if (unet.InChannels != inputs)
            throw new LdException(concat is null
                ? $"the UNet takes {unet.InChannels} input channels; this workflow gives it {channels} (a layer model needs its condition images)"
                : $"the UNet takes {unet.InChannels} input channels but the latent and condition latents give {inputs}");
        int[] image = [channels, h, w];
        Tensor ctxNeg = Rows(negative.Context, negative.ContextShape), ctxPos = Rows(positive.Context, positive.ContextShape);
        Tensor yN = Rows(yNeg, [1, yNeg.Length]), yP = Rows(yPos, [1, yPos.Length]);
        if (negative.Chunks == positive.Chunks)
            _both = new UnetEpsModel(unet, b.Concat(0, ctxNeg, ctxPos), b.Concat(0, yN, yP), image, conditions);
        else
        {
            _negative = new UnetEpsModel(unet, ctxNeg, yN, image, conditions);
            _positive = new UnetEpsModel(unet, ctxPos, yP, image, conditions);
        }
    }

    /// <summary>ε for the doubled batch, in the same row order.</summary>
    public float[] Eps(float[] xIn, float timestep, float sigma)
    {
        if (_both is not null) return _both.Run(xIn, timestep, sigma);
        int half = xIn.Length / 2;
        return [.. _negative!.Run(xIn[..half], timestep, sigma), .. _positive!.Run(xIn[half..], timestep, sigma)];
    }

    public CfgBatchEpsModel Model => Eps;
}
