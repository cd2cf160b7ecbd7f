using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>GPU operations outside <see cref="IBackend"/>: LoRA merging and image bytes.</summary>
public sealed unsafe partial class CudaBackend
{
    /// <summary>
    /// Merges a LoRA pair into a weight: W' = W + scale · (up · down), computed in fp32 by cuBLASLt (beta = 1 adds W) and
    /// rounded once to the storage dtype. up is [out, rank], down is [rank, in·kh·kw] (or [rank, in, kh, kw]); W is
    /// [out, in] or [out, in, kh, kw]. When down has more input channels than W (a patch that widens a layer's input,
    /// as LayerDiffusion's conv_in does), W is first grown with zero input channels. Returns a new tensor.
    /// </summary>
    public Tensor MergeLora(Tensor weight, Tensor up, Tensor down, float scale)
    {
        int outs = weight.Dim(0), rank = up.Dim(1);
        if (up.Rank != 2 || up.Dim(0) != outs || down.Dim(0) != rank)
            throw new ArgumentException($"MergeLora: weight {Tensors.Shape.Format(weight.Shape)}, up {Tensors.Shape.Format(up.Shape)}, down {Tensors.Shape.Format(down.Shape)}");
        long inner = weight.Count / ((long)outs * weight.Dim(1));
        long downCols = down.Count / rank;
        int inOld = weight.Dim(1);
        if (downCols % inner != 0) throw new ArgumentException($"MergeLora: down {Tensors.Shape.Format(down.Shape)} does not match the kernel size of {Tensors.Shape.Format(weight.Shape)}");
        int inNew = (int)(downCols / inner);
        if (inNew < inOld) throw new ArgumentException($"MergeLora: down has {inNew} input channels, fewer than the weight's {inOld}");
        var y = GrownCopy(weight, inNew);
        ulong py = y.Ptr;
        // Row-major W'[outs, cols] += scale · up[outs, rank] · down[rank, cols]
        //   ⇔ column-major W'ᵀ (cols × outs) = downᵀ (cols × rank) · upᵀ (rank × outs) + W'ᵀ.
        Gemm(false, false, downCols, outs, rank, Own(down).Ptr, downCols, Own(up).Ptr, rank, py, downCols, BlasType, alpha: scale, beta: 1f);
        return y;
    }

    /// <summary>
    /// Merges a full weight difference: W' = W + scale · ΔW in fp32, rounded once to the storage dtype. When ΔW has
    /// more input channels than W (LayerDiffusion's widened conv_in), W is first grown with zero input channels.
    /// </summary>
    public Tensor MergeDiff(Tensor weight, Tensor delta, float scale)
    {
        bool same = Tensors.Shape.Equal(weight.Shape, delta.Shape); // any rank: biases and norms too
        if (!same && (weight.Rank < 2 || delta.Rank != weight.Rank || delta.Dim(0) != weight.Dim(0) || delta.Dim(1) < weight.Dim(1)
            || !delta.Shape.AsSpan(2).SequenceEqual(weight.Shape.AsSpan(2))))
            throw new ArgumentException($"MergeDiff: weight {Tensors.Shape.Format(weight.Shape)}, delta {Tensors.Shape.Format(delta.Shape)}");
        var y = same ? CopyOf(weight) : GrownCopy(weight, delta.Dim(1));
        Launch(new LdAxpy(y.Count, Own(delta).Ptr, y.Ptr, scale), Stride(y.Count));
        return y;
    }

    private CudaTensor CopyOf(Tensor weight)
    {
        var y = New((int[])weight.Shape.Clone(), weight: true);
        _drv.Check(_drv.cuMemcpyDtoDAsync(y.Ptr, Own(weight).Ptr, (nuint)Own(weight).Bytes, _stream.Raw), "cuMemcpyDtoDAsync");
        return y;
    }

    /// <summary>A copy of a weight [out, in, ...] with its input channels grown to <paramref name="inNew"/> (zeros).</summary>
    private CudaTensor GrownCopy(Tensor weight, int inNew)
    {
        int outs = weight.Dim(0), inOld = weight.Dim(1);
        long inner = weight.Count / ((long)outs * inOld);
        if (inNew == inOld) return CopyOf(weight);
        var shape = (int[])weight.Shape.Clone();
        shape[1] = inNew;
        var y = New(shape, weight: true);
        Launch(new LdGrowIn(outs, inOld, inNew, inner, Own(weight).Ptr, y.Ptr), Stride(y.Count));
        return y;
    }

    /// <summary>
    /// Image bytes: x [N, C, H, W] to interleaved [N, H, W, C] bytes, round(clamp(x·scale + shift, 0, 255)) (e.g.
    /// scale 127.5, shift 127.5 for [-1, 1] images; C = 4 gives RGBA). Only the bytes cross to the host.
    /// </summary>
    public byte[] ToBytes(Tensor x, float scale, float shift)
    {
        var t = Own(x);
        long images = x.Dim(0), hw = (long)x.Dim(2) * x.Dim(3);
        int c = x.Dim(1);
        var result = new byte[x.Count];
        if (result.Length == 0) return result;
        var tmp = Scratch(result.Length);
        try
        {
            Launch(new LdToBytes(images, c, hw, t.Ptr, tmp.Ptr, scale, shift), Stride(result.Length));
            fixed (byte* p = result) _drv.Check(_drv.cuMemcpyDtoHAsync(p, tmp.Ptr, (nuint)result.Length, _stream.Raw), "cuMemcpyDtoHAsync");
            _stream.Synchronize();
        }
        finally { tmp.Release(); }
        return result;
    }
}

public sealed unsafe partial class CudaBackend
{
    /// <summary>
    /// The transparent decoder's test-time augmentation undone and combined in one kernel: <paramref name="augmented"/>[i]
    /// is the decoder output of pass i = flip·4 + k (flip W, then rot90 k times), and the result equals
    /// Median8(FlipRot(augmented[i], i ≥ 4, i % 4, inverse: true) for each i) without the eight inverse copies.
    /// </summary>
    public Tensor UnaugmentMedian8(Tensor[] augmented)
    {
        if (augmented.Length != 8) throw new ArgumentException("UnaugmentMedian8 takes exactly 8 tensors");
        var s0 = augmented[0].Shape;
        if (s0.Length != 4) throw new ArgumentException($"UnaugmentMedian8: {Tensors.Shape.Format(s0)} is not NCHW");
        int h = s0[2], w = s0[3];
        var p = new Ptr8();
        for (int i = 0; i < 8; i++)
        {
            var s = augmented[i].Shape;
            bool swapped = (i & 1) == 1;
            if (s.Length != 4 || s[0] != s0[0] || s[1] != s0[1] || s[2] != (swapped ? w : h) || s[3] != (swapped ? h : w))
                throw new ArgumentException($"UnaugmentMedian8: pass {i} has shape {Tensors.Shape.Format(s)}, expected {(swapped ? "H and W swapped from " : "")}{Tensors.Shape.Format(s0)}");
            p.P[i] = Own(augmented[i]).Ptr;
        }
        var y = New((int[])s0.Clone());
        long planes = (long)s0[0] * s0[1];
        Launch(new LdUnaugmentMedian8(planes, h, w, p, y.Ptr), Stride(y.Count));
        return y;
    }
}

public sealed unsafe partial class CudaBackend
{
    /// <summary>
    /// Brings a tensor of another backend into this one: from another CUDA backend on the same GPU it is converted on
    /// the device (e.g. UNet latents in fp16 to a VAE backend in bf16 or fp32); from any other backend it goes through
    /// the host. The input is left untouched.
    /// </summary>
    public Tensor Import(Tensor x)
    {
        if (x is CudaTensor ct && ct.Backend is CudaBackend other && ReferenceEquals(other._device, _device))
        {
            other._stream.Synchronize(); // the source is complete before this stream reads it
            var y = New((int[])x.Shape.Clone());
            if (ct.DType == StorageType)
                _drv.Check(_drv.cuMemcpyDtoDAsync(y.Ptr, ct.Ptr, (nuint)ct.Bytes, _stream.Raw), "cuMemcpyDtoDAsync");
            else
                Cast(ct.Ptr, ct.DType, y.Ptr, StorageType, x.Count);
            return y;
        }
        return FromHost(x.Backend.ToHost(x), (int[])x.Shape.Clone());
    }
}
