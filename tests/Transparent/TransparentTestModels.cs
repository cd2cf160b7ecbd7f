using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Tests.Transparent;

/// <summary>Small decoders built in memory from the released key layout, and random test inputs.</summary>
internal static class TransparentTestModels
{
    public static WeightStore Decoder(int[] widths, int attentionLevels = 3, int layersPerBlock = 2, ulong seed = 7)
    {
        var layout = LayerDiffusionLayout.TransparentDecoder(widths, attentionLevels, layersPerBlock);
        var b = CpuBackend.Instance;
        var tensors = layout.Tensors.ToDictionary(t => t.Name, t => b.FromHost(SyntheticWeights.Values(t, seed), t.Shape));
        return WeightStore.FromTensors(b, "synthetic-decoder", "", tensors);
    }

    public static Tensor Random(int seed, params int[] shape)
    {
        var rng = new System.Random(seed);
        var v = new float[Shape.Size(shape)];
        for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextDouble();
        return CpuBackend.Instance.FromHost(v, shape);
    }
}
