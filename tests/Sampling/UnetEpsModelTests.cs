using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

/// <summary>The UNet adapter on the tiny golden checkpoint: CFG halves, the cfg = 1 shortcut, batch checks.</summary>
public sealed class UnetEpsModelTests
{
    [Fact]
    public void GuidanceCombinesTheHalvesAndCfgOneRunsOnlyThePositiveRows()
    {
        var b = CpuBackend.Instance;
        using var weights = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        using var data = SafeTensorsFile.Open(TestPaths.Golden("samplers.safetensors"));
        var unet = SdxlUnet.Load(b, weights);
        using var context = b.FromHost(data.ReadFloat32("context"), data.Info("context").Shape);
        using var y = b.FromHost(data.ReadFloat32("y"), data.Info("y").Shape);
        var noise = data.ReadFloat32("noise");
        int[] image = data.Info("noise").Shape[1..];
        var model = new UnetEpsModel(unet, context, y, image);

        var doubled = noise.Concat(noise).ToArray();
        var both = model.Run(doubled, 500f, 1.6f);
        var positive = model.RunPositive(noise, 500f, 1.6f);
        var guided = model.Guided(5f)(noise, 500f, 1.6f);
        for (int i = 0; i < noise.Length; i++)
        {
            float u = both[i], c = both[noise.Length + i];
            Assert.Equal(c, positive[i], 4);
            Assert.Equal(u + (c - u) * 5f, guided[i], 3);
        }
        Assert.Equal(positive, model.Guided(1f)(noise, 500f, 1.6f));
        Assert.Throws<ArgumentException>(() => model.Run(noise, 500f, 1.6f)); // one row where the CFG batch needs two
    }
}
