using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Unet;

/// <summary>The UNet's attention hook (what SD1.5's attention sharing plugs into).</summary>
public sealed class AttentionHookTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    private static float[] Ramp(int n, float scale) => Enumerable.Range(0, n).Select(i => MathF.Sin(i * 0.37f + 0.1f) * scale).ToArray();

    /// <summary>Writes down every call and leaves the module's result as it is.</summary>
    private sealed class Recorder : IAttentionHook
    {
        public List<(int Index, string Name, bool Self, int Batch, int Width, int? ContextWidth)> Calls { get; } = new();

        public Tensor Attend(IBackend b, AttentionCall call)
        {
            Calls.Add((call.Index, call.Name, call.IsSelfAttention, call.Hidden.Dim(0), call.Hidden.Dim(2), call.Context?.Dim(2)));
            Assert.Equal(call.Hidden.Dim(2), call.Module.Q.Weight.Dim(1));
            return call.Default(b);
        }
    }

    private static Tensor Forward(SdxlUnet unet, int batch)
    {
        var c = unet.Config;
        int h = 8, w = 6;
        return unet.Forward(B.FromHost(Ramp(batch * 4 * h * w, 1f), batch, 4, h, w), Enumerable.Range(0, batch).Select(i => 700f - 200 * i).ToArray(),
            B.FromHost(Ramp(batch * 77 * c.ContextDim, 0.5f), batch, 77, c.ContextDim), B.FromHost(Ramp(batch * c.AdmInChannels, 0.5f), batch, c.AdmInChannels));
    }

    [Fact]
    public void AHookSeesEveryAttentionModuleOncePerForwardInOrder()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var unet = SdxlUnet.Load(B, f);
        var plain = B.ToHost(Forward(unet, 3));

        var hook = new Recorder();
        unet.AttentionHook = hook;
        var hooked = B.ToHost(Forward(unet, 3));
        var modules = unet.AttentionModules;
        Assert.NotEmpty(modules);
        Assert.Equal(modules.Count, hook.Calls.Count);
        for (int i = 0; i < modules.Count; i++)
        {
            var call = hook.Calls[i];
            Assert.Equal(i, call.Index);
            Assert.Equal(modules[i].Name, call.Name);
            // The name is the module's checkpoint key prefix; attn1 is self-attention, attn2 attends to the context.
            Assert.True(unet.Weights.Has(call.Name + ".to_q.weight"), call.Name);
            Assert.Equal(call.Name.EndsWith(".attn1", StringComparison.Ordinal), call.Self);
            Assert.Equal(call.Self ? null : unet.Config.ContextDim, call.ContextWidth);
            Assert.Equal(3, call.Batch); // every frame of the batch at once
        }
        // Input blocks come first, then the middle, then the output blocks.
        var order = hook.Calls.Select(c => c.Name.StartsWith("input_blocks", StringComparison.Ordinal) ? 0 : c.Name.StartsWith("middle_block", StringComparison.Ordinal) ? 1 : 2).ToArray();
        Assert.Equal(order.OrderBy(o => o), order);
        // A hook that returns the module's own result changes nothing.
        Assert.Equal(plain, hooked);

        hook.Calls.Clear();
        Forward(unet, 1);
        Assert.Equal(Enumerable.Range(0, modules.Count), hook.Calls.Select(c => c.Index));

        unet.AttentionHook = null;
        hook.Calls.Clear();
        Assert.Equal(plain, B.ToHost(Forward(unet, 3)));
        Assert.Empty(hook.Calls);
    }

    /// <summary>What a hook returns is what the block adds to its residual: zeroing every attention changes the output.</summary>
    [Fact]
    public void AHookReplacesTheAttention()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var unet = SdxlUnet.Load(B, f);
        var plain = B.ToHost(Forward(unet, 1));
        unet.AttentionHook = new Zeroing();
        var zeroed = B.ToHost(Forward(unet, 1));
        Assert.NotEqual(plain, zeroed);
        Assert.All(zeroed, v => Assert.True(float.IsFinite(v)));
    }

    private sealed class Zeroing : IAttentionHook
    {
        public Tensor Attend(IBackend b, AttentionCall call) => b.Affine(call.Hidden, 0f, 0f);
    }
}
