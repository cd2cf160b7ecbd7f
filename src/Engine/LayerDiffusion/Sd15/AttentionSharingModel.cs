using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.LayerDiffusion.Sd15;

/// <summary>
/// An SD1.5 attention-sharing file (the extension's AttentionSharingPatcher state_dict, released as
/// layer_sd15_transparent_attn / joint / fg2bg / bg2fg) bound to a UNet: one <see cref="AttentionSharingUnit"/> per
/// attention module, hookers.layers.{u} for u in module_mapping_sd15 order (the transformer blocks of the input
/// blocks, then of the output blocks, then of the middle block; attn1 and attn2 of each), and with control the
/// kwargs_encoder. Frames, rank and the control width come from the shapes.
/// </summary>
public sealed class AttentionSharingModel : IDisposable
{
    public const string UnitPrefix = "hookers.layers.";
    private static readonly string[] Projections = ["to_q", "to_k", "to_v", "to_out"];

    private AttentionSharingModel(string path, AttentionSharingUnit[] units, ControlEncoder? encoder, int rank)
    {
        Path = path;
        Units = units;
        Encoder = encoder;
        Rank = rank;
    }

    public string Path { get; }
    public IReadOnlyList<AttentionSharingUnit> Units { get; }
    public ControlEncoder? Encoder { get; }
    public int Frames => Units[0].Frames;
    public int Rank { get; }
    public bool UsesControl => Encoder is not null;

    /// <summary>Whether a file is an attention-sharing file (and not a frozen-patcher one).</summary>
    public static bool Is(SafeTensorsFile file) => file.Contains(UnitPrefix + "0.temporal_i.weight");

    /// <summary>
    /// The UNet attentions in module_mapping_sd15 order, from the UNet's configuration: every transformer block of
    /// the input blocks, the output blocks, then the middle block, attn1 then attn2 of each.
    /// </summary>
    public static IReadOnlyList<string> ModulePaths(UnetConfig config) => Attentions(config).Select(a => a.Path).ToList();

    /// <summary>
    /// Computes every unit's control addends for <paramref name="signals"/> (the encoder's outputs: the largest is the
    /// latent's size, each next one half of it, so the attentions of UNet level l use the l-th largest) before the
    /// run's first forward (see <see cref="AttentionSharingUnit.PrepareControl"/>).
    /// </summary>
    public void PrepareControl(SdxlUnet unet, IReadOnlyDictionary<int, Tensor> signals)
    {
        if (!UsesControl || signals.Count == 0) return;
        var bySize = signals.Keys.OrderDescending().ToArray();
        var attentions = Attentions(unet.Config);
        for (int u = 0; u < Units.Count; u++)
            if (attentions[u].Level < bySize.Length) Units[u].PrepareControl(signals[bySize[0]].Backend, signals, bySize[attentions[u].Level]);
    }

    /// <summary>
    /// The attentions in module_mapping_sd15 order with the UNet level each runs at (0 at the latent's size, each
    /// level half the one before): the input blocks' by their level, the output blocks' from the deepest level up,
    /// then the middle block's at the deepest.
    /// </summary>
    private static List<(string Path, int Level)> Attentions(UnetConfig config)
    {
        static IEnumerable<(string, int)> Blocks(string block, int depth, int level) =>
            Enumerable.Range(0, depth).SelectMany(j => new[] { ".attn1", ".attn2" }.Select(a => ($"{block}.1.transformer_blocks.{j}{a}", level)));
        int deepest = config.ChannelMult.Length - 1, perLevel = config.NumResBlocks + 1;
        var input = new List<(string, int)>();
        int res = 0;
        for (int level = 0; level <= deepest; level++)
            for (int r = 0; r < config.NumResBlocks; r++, res++)
                input.AddRange(Blocks($"input_blocks.{1 + level * perLevel + r}", config.InputDepths[res], level));
        var output = Enumerable.Range(0, config.OutputDepths.Length).SelectMany(i => Blocks($"output_blocks.{i}", config.OutputDepths[i], deepest - i / perLevel));
        return input.Concat(output).Concat(Blocks("middle_block", config.MiddleDepth, deepest)).ToList();
    }

    /// <summary>
    /// A UNet over the same weights as <paramref name="unet"/> whose transformer blocks run this model's units, each
    /// call described by <paramref name="call"/> (read when the call reaches an attention). The given UNet is untouched.
    /// </summary>
    public SdxlUnet Attach(SdxlUnet unet, Func<FrameCall> call)
    {
        var hooked = new SdxlUnet(unet.Config, unet.Weights);
        var byModule = Units.ToDictionary(u => u.Module, StringComparer.Ordinal);
        foreach (var module in hooked.AttentionModules)
            if (!byModule.ContainsKey(module.Name)) throw new InvalidOperationException($"{Path}: no attention unit for the UNet's {module.Name}");
        hooked.AttentionHook = new UnitHook(byModule, call);
        return hooked;
    }

    /// <summary>Every attention replaced by its unit (found by the module's key path; the unit holds its own merged projections).</summary>
    private sealed class UnitHook(Dictionary<string, AttentionSharingUnit> byModule, Func<FrameCall> call) : IAttentionHook
    {
        public Tensor Attend(IBackend b, AttentionCall a) => byModule[a.Name].Forward(b, a.Hidden, a.Context, call());
    }

    /// <summary>Loads the file's units over the UNet's attention weights (per-frame LoRA merged: W + up·down).</summary>
    public static AttentionSharingModel Load(IBackend b, SafeTensorsFile file, SdxlUnet unet)
    {
        if (!Is(file))
            throw new ModelFormatException(file.Path, UnitPrefix + "0.temporal_i.weight", "missing: not an SD1.5 attention-sharing file (layer_sd15_*)");
        var t = new PatchTensors(b, file);
        var paths = ModulePaths(unet.Config);
        int units = t.CountIndexed(UnitPrefix, ".temporal_i.weight");
        if (units != paths.Count)
            throw new ModelFormatException(file.Path, $"{UnitPrefix}{units}.temporal_i.weight", $"the file has {units} attention units; this UNet has {paths.Count} attentions (an SD1.5 UNet has 32)");
        int frames = t.CountIndexed(UnitPrefix + "0.to_q_lora.", ".down.weight");
        if (frames == 0) throw new ModelFormatException(file.Path, UnitPrefix + "0.to_q_lora.0.down.weight", "missing");
        int rank = t.ShapeOf(UnitPrefix + "0.to_q_lora.0.down.weight", 2)[0];
        var loaded = new List<AttentionSharingUnit>();
        ControlEncoder? encoder = null;
        try
        {
            bool control = ControlEncoder.In(file);
            if (control) encoder = ControlEncoder.Load(t);
            for (int u = 0; u < units; u++) loaded.Add(LoadUnit(b, t, unet, u, paths[u], frames, rank, encoder?.Channels));
            return new AttentionSharingModel(file.Path, loaded.ToArray(), encoder, rank);
        }
        catch
        {
            foreach (var x in loaded) x.Dispose();
            encoder?.Dispose();
            throw;
        }
    }

    private static AttentionSharingUnit LoadUnit(IBackend b, PatchTensors t, SdxlUnet unet, int u, string module, int frames, int rank, int? controlChannels)
    {
        var w = unet.Weights;
        string p = $"{UnitPrefix}{u}.";
        int c = w.Dims(module + ".to_q.weight")[0];
        int heads = unet.Config.Heads.For(c) ?? throw w.Error(module + ".to_q.weight", $"width {c} does not split into {unet.Config.Heads}");
        var frameWeights = new AttentionSharingUnit.FrameWeights[frames];
        using var scope = TensorScope.Open();
        for (int f = 0; f < frames; f++)
        {
            var merged = new Tensor[4];
            for (int k = 0; k < 4; k++)
            {
                string proj = Projections[k];
                var baseW = w.Get(module + (proj == "to_out" ? ".to_out.0.weight" : $".{proj}.weight"));
                int inF = baseW.Dim(1);
                var up = t.Load($"{p}{proj}_lora.{f}.up.weight", c, rank);
                var down = t.Load($"{p}{proj}_lora.{f}.down.weight", rank, inF);
                merged[k] = TensorScope.Detach(b.MergeLora(baseW, up, down, 1f));
                up.Dispose();
                down.Dispose();
            }
            (Tensor, Tensor, Tensor, Tensor)? ctl = null;
            if (controlChannels is int cc)
                ctl = (t.Load($"{p}control_convs.{f}.0.weight", cc, cc, 3, 3), t.Load($"{p}control_convs.{f}.0.bias", cc),
                    t.Load($"{p}control_convs.{f}.2.weight", c, cc, 1, 1), t.Load($"{p}control_convs.{f}.2.bias", c));
            frameWeights[f] = new(merged[0], merged[1], merged[2], merged[3], ctl);
        }
        if (t.Has($"{p}to_q_lora.{frames}.down.weight")) throw new ModelFormatException(t.File.Path, $"{p}to_q_lora.{frames}.down.weight", $"unit {u} has more frames than unit 0's {frames}");
        var temporal = new[]
        {
            t.Load(p + "temporal_n.weight", c), t.Load(p + "temporal_n.bias", c),
            t.Load(p + "temporal_i.weight", c, c), t.Load(p + "temporal_i.bias", c),
            t.Load(p + "temporal_q.weight", c, c), t.Load(p + "temporal_q.bias", c),
            t.Load(p + "temporal_k.weight", c, c), t.Load(p + "temporal_k.bias", c),
            t.Load(p + "temporal_v.weight", c, c), t.Load(p + "temporal_v.bias", c),
            t.Load(p + "temporal_o.weight", c, c), t.Load(p + "temporal_o.bias", c),
        };
        bool self = module.EndsWith("attn1", StringComparison.Ordinal);
        return new AttentionSharingUnit(module, self, c, heads, frameWeights, w.Get(module + ".to_out.0.bias"), temporal);
    }

    /// <summary>
    /// The control image as the extension feeds it: RGBA bytes [h, w, 4] composited on grey in fp32 (rgba2rgbfp32:
    /// 0.5 + (rgb − 0.5)·α), fitted to the generation size, as [1, 3, height, width] in about [0, 1].
    /// </summary>
    public static float[] ControlRgb(ReadOnlySpan<byte> rgba, int w, int h, int width, int height, Imaging.ResizeMode mode) =>
        (w == width && h == height ? Imaging.ConditionImage.CompositeOnGrey(rgba, w, h) : Imaging.ConditionImage.Prepare(rgba, w, h, width, height, mode)).ToPlanar();

    /// <summary>The control encoder's signals of a control image [1, 3, H, W] in [0, 1] (encoded as x·2 − 1), keyed by pixel count.</summary>
    public Dictionary<int, Tensor> Signals(IBackend b, Tensor rgb01)
    {
        if (Encoder is null) throw new InvalidOperationException($"{Path} has no control encoder");
        using var scope = TensorScope.Open();
        var outputs = Encoder.Encode(b, b.Affine(rgb01, 2f, -1f));
        var signals = new Dictionary<int, Tensor>();
        foreach (var o in outputs) signals[o.Dim(2) * o.Dim(3)] = TensorScope.Detach(o);
        return signals;
    }

    public void Dispose()
    {
        foreach (var u in Units) u.Dispose();
        Encoder?.Dispose();
    }
}
