using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion.Sd15;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.LayerDiffusion;

/// <summary>
/// SD1.5 frame prompts of another 75-token chunk count than the call's context: the units repeat both to the least
/// common multiple of their lengths, as Forge batches conds of different lengths (CONDCrossAttn.concat). Repeating
/// keys and values leaves attention unchanged, so each result is checked against the same call given contexts
/// already tiled to one length by hand (the equal-length path), on the tiny joint model (3 frames, one CFG call).
/// </summary>
public sealed class FramePromptLengthTests
{
    private const int Frames = 3, Chunk = 77;

    private static float[] Random(int n, int seed)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>[1, chunks·77, D] of random values (every chunk different).</summary>
    private static float[] Context(int chunks, int dim, int seed) => Random(chunks * Chunk * dim, seed);

    /// <summary>A [1, n, D] context repeated whole to [1, tokens, D] on the host (torch's repeat(1, k, 1)).</summary>
    private static float[] Tile(float[] ctx, int dim, int tokens)
    {
        int n = ctx.Length / dim;
        var all = new float[tokens * dim];
        for (int i = 0; i < tokens / n; i++) ctx.CopyTo(all, i * n * dim);
        return all;
    }

    /// <summary>ε of one CFG call (F negative rows, then F positive rows with the overwrites) of the joint model.</summary>
    private static float[] Eps(SdxlUnet unet, AttentionSharingModel model, float[] negative, float[] positive, float[]?[] overwrites)
    {
        var b = CpuBackend.Instance;
        int dim = unet.Config.ContextDim;
        using var scope = TensorScope.Open();
        var ow = overwrites.Select(o => o is null ? null : b.FromHost(o, 1, o.Length / dim, dim)).ToArray();
        var call = new FrameCall(Frames, [.. Enumerable.Repeat(true, Frames), .. Enumerable.Repeat(false, Frames)], ow, new Dictionary<int, Tensor>());
        var hooked = model.Attach(unet, () => call);
        var neg = b.FromHost(negative, 1, negative.Length / dim, dim);
        var pos = b.FromHost(positive, 1, positive.Length / dim, dim);
        if (neg.Dim(1) != pos.Dim(1)) throw new ArgumentException("one CFG call needs contexts of one length");
        var context = b.Concat(0, [.. Enumerable.Repeat(neg, Frames), .. Enumerable.Repeat(pos, Frames)]);
        var x = b.FromHost(Random(2 * Frames * 4 * 8 * 8, 5), 2 * Frames, 4, 8, 8);
        return b.ToHost(hooked.Forward(x, Enumerable.Repeat(500f, 2 * Frames).ToArray(), context, null));
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs(v)), max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
        // fp32 rounding of softmax sums over k× more keys: far below the golden cases' 1e-4 relative tolerances.
        Assert.True(max <= 1e-5 * scale, $"max |Δ| {max} for values up to {scale}");
    }

    [Fact]
    public void FramePromptsOfOtherChunkCountsActAsIfRepeatedToOneLength()
    {
        var b = CpuBackend.Instance;
        using var file = SafeTensorsFile.Open(TestPaths.GoldenSd15("tiny_sd15.safetensors"));
        var unet = SdxlUnet.Load(b, file);
        using var patch = SafeTensorsFile.Open(TestPaths.GoldenSd15("layer_sd15_joint.safetensors"));
        using var model = AttentionSharingModel.Load(b, patch, unet);
        int dim = unet.Config.ContextDim;
        float[] neg = Context(1, dim, 1), pos = Context(1, dim, 2);

        // A foreground prompt of 2 chunks and a blend prompt of 3 over 1-chunk contexts (lcm 2 for frame 0, 3 for
        // frame 2): the same ε as 6-chunk tilings of everything, where every length already agrees.
        float[] fg = Context(2, dim, 3), blend = Context(3, dim, 4);
        var eps = Eps(unet, model, neg, pos, [fg, null, blend]);
        int six = 6 * Chunk;
        AssertClose(Eps(unet, model, Tile(neg, dim, six), Tile(pos, dim, six), [Tile(fg, dim, six), null, Tile(blend, dim, six)]), eps);

        // The other way round: 2-chunk contexts (a negative prompt longer than the prompt) over a 1-chunk overwrite
        // equal to the positive context gives the call without overwrites.
        float[] neg2 = Context(2, dim, 6), pos2 = Tile(pos, dim, 2 * Chunk);
        AssertClose(Eps(unet, model, neg2, pos2, [null, null, null]), Eps(unet, model, neg2, pos2, [pos, pos, pos]));

        // And the overwrite matters: another 2-chunk foreground prompt changes ε.
        var other = Eps(unet, model, neg, pos, [Context(2, dim, 7), null, blend]);
        Assert.True(eps.Zip(other).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
    }
}
