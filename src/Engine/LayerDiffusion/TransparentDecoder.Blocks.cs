using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.LayerDiffusion;

public sealed partial class TransparentDecoder
{
    /// <summary>A conv layer with bias; 3×3 convs pad by 1, 1×1 convs do not.</summary>
    private sealed record Conv(Tensor Weight, Tensor Bias, int Stride, int Padding)
    {
        public static Conv Load(WeightStore w, string prefix, int outCh, int inCh, int kernel, int stride = 1) =>
            new(w.Get(prefix + ".weight", outCh, inCh, kernel, kernel), w.Get(prefix + ".bias", outCh), stride, kernel / 2);

        public Tensor Run(IBackend b, Tensor x) => b.Conv2d(x, Weight, Bias, Stride, Padding);
    }

    private sealed record Norm(Tensor Gamma, Tensor Beta)
    {
        public static Norm Load(WeightStore w, string prefix, int channels)
        {
            if (channels % TransparentDecoderConfig.Groups != 0)
                throw new ModelFormatException(w.Source, w.Prefix + prefix + ".weight", $"{channels} channels cannot form {TransparentDecoderConfig.Groups} GroupNorm groups");
            return new(w.Get(prefix + ".weight", channels), w.Get(prefix + ".bias", channels));
        }

        public Tensor Run(IBackend b, Tensor x, bool silu) =>
            b.GroupNorm(x, TransparentDecoderConfig.Groups, Gamma, Beta, TransparentDecoderConfig.Eps, silu);
    }

    /// <summary>diffusers ResnetBlock2D without time embedding: x + conv2(silu(norm2(conv1(silu(norm1(x)))))), 1×1 shortcut when widths differ.</summary>
    private sealed record Resnet(Norm Norm1, Conv Conv1, Norm Norm2, Conv Conv2, Conv? Shortcut)
    {
        public static Resnet Load(WeightStore w, string prefix, int inCh, int outCh) => new(
            Norm.Load(w, prefix + ".norm1", inCh),
            Conv.Load(w, prefix + ".conv1", outCh, inCh, 3),
            Norm.Load(w, prefix + ".norm2", outCh),
            Conv.Load(w, prefix + ".conv2", outCh, outCh, 3),
            inCh != outCh ? Conv.Load(w, prefix + ".conv_shortcut", outCh, inCh, 1) : null);

        public Tensor Run(IBackend b, Tensor x)
        {
            using var scope = TensorScope.Open();
            var h = TensorScope.Chain(x, t => Norm1.Run(b, t, silu: true), t => Conv1.Run(b, t), t => Norm2.Run(b, t, silu: true), t => Conv2.Run(b, t));
            return scope.MoveToOuter(b.Add(Shortcut is null ? x : Shortcut.Run(b, x), h));
        }
    }

    /// <summary>
    /// diffusers Attention in its "deprecated attention block" form: GroupNorm, q/k/v/out projections with bias over
    /// the H·W tokens, heads 8 wide, residual add.
    /// </summary>
    private sealed record SpatialAttention(Norm Norm, Tensor Wq, Tensor Bq, Tensor Wk, Tensor Bk, Tensor Wv, Tensor Bv, Tensor Wo, Tensor Bo)
    {
        public static SpatialAttention Load(WeightStore w, string prefix, int ch)
        {
            if (ch % TransparentDecoderConfig.HeadWidth != 0)
                throw new ModelFormatException(w.Source, w.Prefix + prefix + ".to_q.weight", $"{ch} channels do not split into heads of {TransparentDecoderConfig.HeadWidth}");
            return new(Norm.Load(w, prefix + ".group_norm", ch),
                w.Get(prefix + ".to_q.weight", ch, ch), w.Get(prefix + ".to_q.bias", ch),
                w.Get(prefix + ".to_k.weight", ch, ch), w.Get(prefix + ".to_k.bias", ch),
                w.Get(prefix + ".to_v.weight", ch, ch), w.Get(prefix + ".to_v.bias", ch),
                w.Get(prefix + ".to_out.0.weight", ch, ch), w.Get(prefix + ".to_out.0.bias", ch));
        }

        public Tensor Run(IBackend b, Tensor x)
        {
            using var scope = TensorScope.Open();
            int n = x.Dim(0), c = x.Dim(1), hgt = x.Dim(2), wid = x.Dim(3);
            var tokens = b.Permute(b.Reshape(Norm.Run(b, x, silu: false), n, c, hgt * wid), 0, 2, 1);
            var attended = b.Attention(b.Linear(tokens, Wq, Bq), b.Linear(tokens, Wk, Bk), b.Linear(tokens, Wv, Bv), c / TransparentDecoderConfig.HeadWidth, causal: false);
            var spatial = b.Permute(b.Linear(attended, Wo, Bo), 0, 2, 1);
            return scope.MoveToOuter(b.Add(x, b.Reshape(spatial, n, c, hgt, wid)));
        }
    }

    /// <summary>A down or up block: its resnets, an attention after each when present, and its resampling conv.</summary>
    private sealed record Block(Resnet[] Resnets, SpatialAttention[]? Attentions, Conv? Resample);
}
