using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// The SDXL UNet as the samplers' CFG model: one call runs the doubled batch [negative rows…, positive rows…]
/// (<see cref="CfgBatchEpsModel"/>), with any LayerDiffusion concat latents appended along channels (not scaled by
/// c_in, the same for both halves). Sampling stays on the host; only the UNet call touches the backend.
/// </summary>
public sealed class UnetEpsModel
{
    private readonly SdxlUnet _unet;
    private readonly Tensor _context, _y;
    private readonly IReadOnlyList<Tensor> _concat;
    private readonly int[] _imageShape;

    /// <param name="context">[2B, N, D]: the B negative rows, then the B positive rows.</param>
    /// <param name="y">[2B, adm] in the same order.</param>
    /// <param name="imageShape">[C, H, W] of one latent.</param>
    /// <param name="concat">Concat latents [1 or 2B, C, H, W] for a layer model; empty for a plain UNet.</param>
    public UnetEpsModel(SdxlUnet unet, Tensor context, Tensor y, int[] imageShape, IReadOnlyList<Tensor>? concat = null)
    {
        _unet = unet;
        _context = context;
        _y = y;
        _imageShape = imageShape;
        _concat = concat ?? [];
        if (context.Rank != 3 || y.Rank != 2 || y.Dim(0) != context.Dim(0))
            throw new ArgumentException($"context {Shape.Format(context.Shape)} and y {Shape.Format(y.Shape)} must have the same batch");
        if (imageShape.Length != 3) throw new ArgumentException("imageShape is [C, H, W]", nameof(imageShape));
    }

    private IBackend B => _unet.Weights.Backend;

    /// <summary>ε for every row of the context: the doubled CFG batch (a <see cref="CfgBatchEpsModel"/>), or one half of it.</summary>
    public float[] Run(float[] xIn, float timestep, float sigma) => Forward(xIn, timestep, _context, _y);

    /// <summary>The positive rows alone, for cfg = 1 (an <see cref="EpsModel"/>).</summary>
    public float[] RunPositive(float[] xIn, float timestep, float sigma)
    {
        if (_context.Dim(0) % 2 != 0) throw new InvalidOperationException($"a CFG batch has an even number of rows, not {_context.Dim(0)}");
        int half = _context.Dim(0) / 2;
        using var context = B.Slice(_context, 0, half, half);
        using var y = B.Slice(_y, 0, half, half);
        return Forward(xIn, timestep, context, y);
    }

    /// <summary>The guided model for the samplers.</summary>
    public EpsModel Guided(float cfg) => ClassifierFreeGuidance.Wrap(Run, cfg, RunPositive);

    private float[] Forward(float[] xIn, float timestep, Tensor context, Tensor y)
    {
        int rows = context.Dim(0);
        int image = _imageShape[0] * _imageShape[1] * _imageShape[2];
        if (xIn.Length != rows * image)
            throw new ArgumentException($"latent batch of {xIn.Length} values does not fit {rows} rows of [{string.Join(", ", _imageShape)}]");
        using var x = B.FromHost(xIn, rows, _imageShape[0], _imageShape[1], _imageShape[2]);
        using var input = _concat.Count == 0 ? null : ConcatInput.Build(B, x, _concat);
        var timesteps = new float[rows];
        Array.Fill(timesteps, timestep);
        using var eps = _unet.Forward(input ?? x, timesteps, context, y);
        return B.ToHost(eps);
    }
}
