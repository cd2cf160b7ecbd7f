using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Models.Vae;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Selftest;

/// <summary>
/// Nothing leaks: after a forward pass of a demo network inside a <see cref="TensorScope"/>, the allocator holds
/// exactly the weights again (in-use bytes − weight bytes = 0, to the byte). The CPU backend has no allocator to
/// ask, so the reference is 0 and only a device backend (IBackendDiagnostics) is measured.
/// </summary>
internal static class ScopeRelease
{
    public static IEnumerable<SelftestCase> Cases()
    {
        yield return Case("unet", (b, files) =>
        {
            using var file = SafeTensorsFile.Open(files.Checkpoint);
            var unet = SdxlUnet.Load(b, file);
            var c = unet.Config;
            return () => unet.Forward(b.FromHost(Values(2 * c.InChannels * 16 * 16), 2, c.InChannels, 16, 16), [999f, 1f],
                b.FromHost(Values(2 * 77 * c.ContextDim), 2, 77, c.ContextDim), b.FromHost(Values(2 * c.AdmInChannels), 2, c.AdmInChannels));
        });
        yield return Case("vae decode", (b, files) =>
        {
            using var file = SafeTensorsFile.Open(files.Checkpoint);
            var vae = SdxlVae.Load(NetworkPrecision.ForVae(b), file);
            return () => vae.Decode(vae.Weights.Backend.FromHost(Values(4 * 8 * 8), 1, 4, 8, 8));
        });
        yield return Case("transparent decoder 8-way", (b, files) =>
        {
            using var file = SafeTensorsFile.Open(files.Decoder);
            var decoder = TransparentDecoder.Load(NetworkPrecision.ForVae(b), file);
            var vb = NetworkPrecision.ForVae(b);
            return () => decoder.DecodeAugmented(vb.FromHost(Values(3 * 64 * 64), 1, 3, 64, 64), vb.FromHost(Values(4 * 8 * 8), 1, 4, 8, 8));
        });
    }

    /// <param name="load">Loads the network's weights and returns its forward pass (inputs created inside it).</param>
    private static SelftestCase Case(string network, Func<IBackend, DemoModels.Files, Func<Tensor>> load) =>
        new("pool_after_forward", $"{network}: in-use bytes return to the weights' bytes after a scoped forward pass", [new[] { 1 }], null)
        {
            HostRun = (b, _) =>
            {
                if (b is not IBackendDiagnostics d) return [0f];
                var forward = load(b, DemoModels.Ensure(DemoModels.DefaultDir));
                using (TensorScope.Open())
                {
                    var y = forward();
                    y.Backend.ToHost(y);
                }
                return [d.InUseBytes - d.WeightBytes];
            },
            Reference = _ => [0f],
            MaxAbsBound = 0,
        };

    private static float[] Values(int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = MathF.Sin(0.37f * i + 0.1f);
        return v;
    }
}
