using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.LayerDiffusion.Sd15;

/// <summary>
/// One sampling run with attention sharing: the hooked UNet, the per-frame prompt overwrites and the control
/// signals it owns, and the row layout of the UNet call in progress (set through <see cref="OnRows"/>, which a
/// <see cref="Sampling.GuidedDenoiser"/> calls before each UNet call).
/// </summary>
public sealed class AttentionSharingRun : IDisposable
{
    private readonly Tensor?[] _overwrites;
    private readonly Dictionary<int, Tensor> _signals;
    private FrameCall? _current;

    /// <param name="overwrites">Per frame, its prompt's context [1, N, D] on the UNet's backend or null; owned from now on.</param>
    /// <param name="signals">The control signals (empty without control); owned from now on.</param>
    public AttentionSharingRun(AttentionSharingModel model, SdxlUnet unet, IReadOnlyList<Tensor?> overwrites, Dictionary<int, Tensor> signals)
    {
        if (overwrites.Count > model.Frames) throw new ArgumentException($"{overwrites.Count} prompt overwrites for {model.Frames} frames");
        if (model.UsesControl && signals.Count == 0) throw new LdException($"{model.Path} needs a control image (its method conditions on a foreground or background)");
        Model = model;
        _overwrites = overwrites.Select(o => o is null ? null : TensorScope.Detach(o)).ToArray();
        _signals = signals;
        foreach (var s in signals.Values) TensorScope.Detach(s);
        model.PrepareControl(unet, signals);
        Unet = model.Attach(unet, () => _current ?? throw new InvalidOperationException("the attention-sharing UNet ran before its rows were described"));
    }

    public AttentionSharingModel Model { get; }
    /// <summary>The UNet with the units attached (over the given UNet's weights).</summary>
    public SdxlUnet Unet { get; }

    /// <summary>The next UNet call's rows: true for the negative-prompt rows.</summary>
    public void OnRows(bool[] uncond)
    {
        if (uncond.Length % Model.Frames != 0)
            throw new LdException($"a batch of {uncond.Length} rows is not a whole number of {Model.Frames}-frame groups");
        _current = new FrameCall(Model.Frames, uncond, _overwrites, _signals);
    }

    public void Dispose()
    {
        foreach (var o in _overwrites) o?.Dispose();
        foreach (var s in _signals.Values) s.Dispose();
    }
}
