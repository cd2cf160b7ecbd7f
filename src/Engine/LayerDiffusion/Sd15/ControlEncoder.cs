using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.LayerDiffusion.Sd15;

/// <summary>
/// The attention-sharing control encoder (the extension's AdditionalAttentionCondsEncoder, keys kwargs_encoder.*):
/// four blocks of 3×3 convolutions, each followed by SiLU. Block 0 has eight, with stride 2 at its 3rd, 5th and 7th
/// (the image / 8: latent size); blocks 1-3 are (stride 2, stride 1), halving the size each. Its four outputs are the
/// control signals, looked up by their pixel count (the token count of the attention that uses them). Widths come
/// from the shapes (the released file: 32…256).
/// </summary>
public sealed class ControlEncoder : IDisposable
{
    public const string Prefix = "kwargs_encoder.";
    private const int Blocks = 4;

    private readonly (Tensor W, Tensor B, int Stride)[][] _blocks;

    private ControlEncoder((Tensor, Tensor, int)[][] blocks) => _blocks = blocks;

    /// <summary>Whether the file holds a control encoder.</summary>
    public static bool In(IO.SafeTensorsFile file) => file.Contains(Prefix + "blocks_0.0.weight");

    internal static ControlEncoder Load(PatchTensors t)
    {
        var blocks = new (Tensor, Tensor, int)[Blocks][];
        int inCh = 3;
        for (int k = 0; k < Blocks; k++)
        {
            string p = $"{Prefix}blocks_{k}.";
            var convs = new List<(Tensor, Tensor, int)>();
            // Sequential indices: conv at 0, 2, 4, ... (SiLU between).
            for (int i = 0; t.Has($"{p}{2 * i}.weight"); i++)
            {
                string key = $"{p}{2 * i}.";
                int outCh = t.ShapeOf(key + "weight", 4)[0];
                int stride = k == 0 ? (i is 2 or 4 or 6 ? 2 : 1) : (i == 0 ? 2 : 1);
                convs.Add((t.Load(key + "weight", outCh, inCh, 3, 3), t.Load(key + "bias", outCh), stride));
                inCh = outCh;
            }
            int expected = k == 0 ? 8 : 2;
            if (convs.Count != expected)
                throw new ModelFormatException(t.File.Path, $"{p}{2 * convs.Count}.weight", $"missing: control encoder block {k} has {convs.Count} convolutions, expected {expected}");
            blocks[k] = convs.ToArray();
        }
        return new ControlEncoder(blocks);
    }

    /// <summary>Channels of the signals (the last conv's width).</summary>
    public int Channels => _blocks[^1][^1].W.Dim(0);

    /// <summary>The four signals of an image in [-1, 1] [1, 3, H, W]: [1, C, H/8·2^-k, W/8·2^-k], k = 0..3.</summary>
    public Tensor[] Encode(IBackend b, Tensor image)
    {
        var outputs = new Tensor[Blocks];
        var h = image;
        for (int k = 0; k < Blocks; k++)
        {
            using var scope = TensorScope.Open();
            foreach (var (w, bias, stride) in _blocks[k]) h = b.Silu(b.Conv2d(h, w, bias, stride, 1));
            outputs[k] = h = scope.MoveToOuter(h);
        }
        return outputs;
    }

    public void Dispose()
    {
        foreach (var block in _blocks)
            foreach (var (w, b, _) in block)
            {
                w.Dispose();
                b.Dispose();
            }
    }
}
