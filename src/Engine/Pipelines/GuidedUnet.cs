using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// The UNet over Forge's CFG batch: rows [negative × B, positive × B], each with its own context and y, and the
/// layer models' condition latents appended after the noisy latent on every row (both CFG halves, every image:
/// Forge drops them for batch > 1; we broadcast). When the two prompts have different chunk counts the halves run
/// as two UNet calls, as Forge does. Context, y and the condition latents are uploaded once per run.
/// </summary>
public sealed class GuidedUnet
{
    private readonly SdxlUnet _unet;
    private readonly IBackend _b;
    private readonly int _batch, _channels, _h, _w;
    private readonly Tensor? _concat;            // [1, 4k, h, w]
    private readonly Tensor _ctxNeg, _ctxPos, _yNeg, _yPos;
    private readonly Tensor? _ctxBoth, _yBoth;   // when the chunk counts agree

    public GuidedUnet(SdxlUnet unet, PromptEmbedding negative, PromptEmbedding positive, float[] yNeg, float[] yPos,
        int batch, int channels, int h, int w, float[]? concat)
    {
        _unet = unet;
        _b = unet.Weights.Backend;
        _batch = batch;
        _channels = channels;
        _h = h;
        _w = w;
        _ctxNeg = Repeat(negative.Context, negative.ContextShape, batch);
        _ctxPos = Repeat(positive.Context, positive.ContextShape, batch);
        _yNeg = Repeat(yNeg, [1, yNeg.Length], batch);
        _yPos = Repeat(yPos, [1, yPos.Length], batch);
        if (negative.Chunks == positive.Chunks)
        {
            _ctxBoth = _b.Concat(0, _ctxNeg, _ctxPos);
            _yBoth = _b.Concat(0, _yNeg, _yPos);
        }
        if (concat is not null)
        {
            int k = concat.Length / (h * w);
            _concat = _b.FromHost(concat, 1, k, h, w);
            if (_unet.InChannels != channels + k)
                throw new LdException($"the UNet takes {_unet.InChannels} input channels but the latent ({channels}) and condition latents ({k}) give {channels + k}");
        }
        else if (_unet.InChannels != channels)
            throw new LdException($"the UNet takes {_unet.InChannels} input channels; this workflow gives it {channels} (a layer model needs its condition images)");
    }

    private Tensor Repeat(float[] row, int[] rowShape, int times)
    {
        var t = _b.FromHost(row, rowShape);
        return times == 1 ? t : _b.Concat(0, Enumerable.Repeat(t, times).ToArray());
    }

    /// <summary>ε for the doubled batch, in the same row order.</summary>
    public float[] Eps(float[] xIn, float timestep, float sigma)
    {
        int rowSize = _channels * _h * _w;
        if (xIn.Length != 2 * _batch * rowSize) throw new ArgumentException($"CFG batch of {xIn.Length} values, expected {2 * _batch * rowSize}");
        if (_ctxBoth is not null)
            return _b.ToHost(Run(xIn.AsSpan(), 2 * _batch, timestep, _ctxBoth, _yBoth!));
        var neg = _b.ToHost(Run(xIn.AsSpan(0, _batch * rowSize), _batch, timestep, _ctxNeg, _yNeg));
        var pos = _b.ToHost(Run(xIn.AsSpan(_batch * rowSize), _batch, timestep, _ctxPos, _yPos));
        return [.. neg, .. pos];
    }

    private Tensor Run(ReadOnlySpan<float> x, int rows, float timestep, Tensor ctx, Tensor y)
    {
        var xt = _b.FromHost(x, rows, _channels, _h, _w);
        if (_concat is not null)
            xt = _b.Concat(1, xt, rows == 1 ? _concat : _b.Concat(0, Enumerable.Repeat(_concat, rows).ToArray()));
        var t = new float[rows];
        Array.Fill(t, timestep);
        return _unet.Forward(xt, t, ctx, y);
    }

    public CfgBatchEpsModel Model => Eps;
}
