using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>Which convolution implementation runs (LD_CONV=auto|cudnn|cudnn_unfused|im2col sets it for a process).</summary>
public enum ConvImplementation
{
    /// <summary>cuDNN 9 where it loads (bias and residual fused where the plan allows), im2col otherwise.</summary>
    Auto,
    /// <summary>cuDNN 9 or an error: a GPU check that must know cuDNN really ran.</summary>
    Cudnn,
    /// <summary>cuDNN's best algorithm for the convolution alone, bias and residual by our kernels (for comparison).</summary>
    CudnnUnfused,
    /// <summary>Band-wise im2col + cuBLASLt GEMM, the path where cuDNN is missing.</summary>
    Im2col,
}

/// <summary>
/// Convolutions on cuDNN 9 (Interop/Cudnn*.cs): one plan per shape, dtype and layout, searched once per process
/// (the heuristic by default; LD_CUDNN_SEARCH=find times every algorithm on the device instead), workspaces rented
/// from <see cref="Pool"/>. With a bias the convolution, bias and residual are one call
/// (cudnnConvolutionBiasActivationForward, identity activation, IMPLICIT_PRECOMP_GEMM: the only algorithm cuDNN
/// accepts for the identity activation); where the plan has no fused algorithm or cuDNN declines it, the best
/// algorithm runs alone and our kernels add the bias and the residual. Accumulation is fp32 in every precision;
/// strict fp32 never runs on TF32 tensor cores (CUDNN_FMA_MATH), the VAE's TF32 sibling may.
/// </summary>
/// <remarks>
/// Layout: the descriptors are NCHW, the engine's layout everywhere, and cuDNN transposes to NHWC around its
/// tensor-core kernels itself. NVIDIA's convolution guide recommends NHWC to avoid those transposes; the published
/// whole-network gains for fp16 are 1.2× (ResNet-50) to 1.7× (VGG-16) (PaddlePaddle PR 20597), and TensorFlow users
/// saw 16 % of GPU time in nchwToNhwcKernel (tensorflow/benchmarks issue 237). Converting at each convolution's
/// edges would only move cuDNN's transposes into our kernels; converting at the network's edges means NHWC
/// GroupNorm, upsampling, concatenation and attention reshapes, i.e. NHWC throughout, which touches every block. So
/// NCHW now, and NHWC throughout as a follow-up decided by measurement: <see cref="Conv2dNhwc"/> runs the same
/// plans on NHWC data, and the selftest times both (time_conv2d vs time_conv2d_nhwc at SDXL sizes).
/// </remarks>
public sealed unsafe partial class CudaBackend
{
    /// <summary>The convolution implementation (tests and timings switch it; LD_CONV sets the initial value).</summary>
    public ConvImplementation ConvImplementation { get; set; } = ParseConvImplementation(Environment.GetEnvironmentVariable("LD_CONV"));

    private static ConvImplementation ParseConvImplementation(string? s) => s?.ToLowerInvariant() switch
    {
        null or "" or "auto" => ConvImplementation.Auto,
        "cudnn" => ConvImplementation.Cudnn,
        "cudnn_unfused" => ConvImplementation.CudnnUnfused,
        "im2col" => ConvImplementation.Im2col,
        _ => throw new InvalidOptionException("LD_CONV", $"'{s}' is not one of auto, cudnn, cudnn_unfused, im2col"),
    };

    /// <summary>
    /// LD_CUDNN_SEARCH=find: time every algorithm once per shape (cudnnFindConvolutionForwardAlgorithmEx) instead of
    /// asking the heuristic. Not the default: it runs every algorithm of every new shape, which a first UNet step pays
    /// for in seconds; the GPU check times both.
    /// </summary>
    private readonly bool _cudnnFind = Environment.GetEnvironmentVariable("LD_CUDNN_SEARCH")?.ToLowerInvariant() switch
    {
        null or "" or "heuristic" => false,
        "find" => true,
        var s => throw new InvalidOptionException("LD_CUDNN_SEARCH", $"'{s}' is not one of heuristic, find"),
    };

    /// <summary>LD_CUDNN_LOG=1: each new plan (algorithms, times, fused or not) on stderr, for GPU checks.</summary>
    private static readonly bool s_cudnnLog = Environment.GetEnvironmentVariable("LD_CUDNN_LOG") == "1";

    private Cudnn? _cudnn;
    private string? _cudnnMissing;

    /// <summary>For the backend's name: which convolutions this process runs, and why not cuDNN where it does not.</summary>
    private string ConvolutionSummary()
    {
        if (ConvImplementation == ConvImplementation.Im2col) return "convolutions: im2col (LD_CONV=im2col)";
        return Cudnn.IsAvailable(out string what) ? "convolutions: " + what : $"convolutions: im2col (no cuDNN: {what})";
    }

    /// <summary>The cuDNN handle on this backend's stream, created on first use; null with the reason where cuDNN 9 is unusable.</summary>
    private Cudnn? CudnnOrNull(out string why)
    {
        if (_cudnn is null && _cudnnMissing is null)
        {
            try
            {
                _cudnn = Cudnn.TryCreate(_device, _stream, out string w);
                if (_cudnn is null) _cudnnMissing = w;
            }
            catch (LdException e)
            {
                _cudnnMissing = e.Message; // e.g. cudnnCreate failing on a broken install: convolve by im2col instead
            }
        }
        why = _cudnnMissing ?? "";
        return _cudnn;
    }

    /// <summary>Why cuDNN 9 cannot run this backend's convolutions (creating its handle on first use), or null.</summary>
    internal string? CudnnUnavailableReason => CudnnOrNull(out string why) is null ? "no cuDNN 9: " + why : null;

    internal int CudnnType => StorageType switch { DType.F16 => CudnnApi.DataHalf, DType.BF16 => CudnnApi.DataBFloat16, _ => CudnnApi.DataFloat };

    public Tensor Conv2d(Tensor x, Tensor w, Tensor? bias, int stride, int padding) => Convolve(x, w, bias, stride, padding, null);

    public Tensor Conv2dAdd(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor residual) => Convolve(x, w, bias, stride, padding, residual);

    private Tensor Convolve(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor? residual)
    {
        var shape = ShapeRules.Conv2d(x, w, bias, stride, padding, residual);
        var impl = ConvImplementation;
        if (impl != ConvImplementation.Im2col)
        {
            var cudnn = CudnnOrNull(out string why);
            if (cudnn is null && impl != ConvImplementation.Auto)
                throw new LdException($"LD_CONV={impl.ToString().ToLowerInvariant()}: cuDNN 9 is not available ({why})");
            if (cudnn is not null)
            {
                var spec = Spec(x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3), w.Dim(0), w.Dim(2), w.Dim(3), stride, padding, nhwc: false);
                var y = ConvolveCudnn(cudnn, spec, shape, x, w, bias, residual, unfused: impl == ConvImplementation.CudnnUnfused);
                if (y is not null) return y;
                if (impl != ConvImplementation.Auto)
                    throw new LdException($"LD_CONV={impl.ToString().ToLowerInvariant()}: {Cudnn.CachedPlan(spec)?.Describe()}");
            }
        }
        var r = Conv2dIm2col(x, w, bias, stride, padding);
        ConvEpilogue(r, null, residual, 0, 0);
        return r;
    }

    /// <summary>
    /// The same convolution on NHWC data: x [N, H, W, C], w [K, R, S, C] (KRSC), bias [K], residual and result
    /// [N, Ho, Wo, K]; cuDNN only. For measuring what NHWC throughout would save (see the remarks above) and its
    /// selftest; the networks are NCHW.
    /// </summary>
    internal Tensor Conv2dNhwc(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor? residual = null, bool unfused = false)
    {
        if (x.Rank != 4 || w.Rank != 4 || w.Dim(3) != x.Dim(3))
            throw new ArgumentException($"Conv2dNhwc: input {Tensors.Shape.Format(x.Shape)} vs weight {Tensors.Shape.Format(w.Shape)}");
        var spec = Spec(x.Dim(0), x.Dim(3), x.Dim(1), x.Dim(2), w.Dim(0), w.Dim(1), w.Dim(2), stride, padding, nhwc: true);
        if (stride < 1 || padding < 0 || spec.OutH <= 0 || spec.OutW <= 0 || (bias is not null && bias.Count != spec.K))
            throw new ArgumentException($"Conv2dNhwc: {spec} with bias {(bias is null ? "none" : Tensors.Shape.Format(bias.Shape))}");
        int[] shape = [spec.N, spec.OutH, spec.OutW, spec.K];
        if (residual is not null && !Tensors.Shape.Equal(residual.Shape, shape))
            throw new ArgumentException($"Conv2dNhwc: residual {Tensors.Shape.Format(residual.Shape)} vs output {Tensors.Shape.Format(shape)}");
        var cudnn = CudnnOrNull(out string why) ?? throw new LdException($"NHWC convolution needs cuDNN 9 ({why})");
        return ConvolveCudnn(cudnn, spec, shape, x, w, bias, residual, unfused)
            ?? throw new LdException(Cudnn.CachedPlan(spec)?.Describe() ?? $"conv {spec}: no cuDNN plan");
    }

    private ConvSpec Spec(int n, int c, int h, int w, int k, int r, int s, int stride, int padding, bool nhwc) =>
        new(n, c, h, w, k, r, s, stride, padding, CudnnType, nhwc, Tf32: UseTf32 && StorageType == DType.F32);

    /// <summary>
    /// One convolution through the shape's plan (searched on first use): the fused call where the plan has one and
    /// there is a bias to fuse, else the best algorithm and our epilogue. Null where cuDNN has no algorithm for it.
    /// </summary>
    private CudaTensor? ConvolveCudnn(Cudnn cudnn, in ConvSpec spec, int[] shape, Tensor x, Tensor w, Tensor? bias, Tensor? residual, bool unfused)
    {
        ulong px = Own(x).Ptr, pw = Own(w).Ptr;
        ulong pb = bias is null ? 0 : Own(bias).Ptr, pr = residual is null ? 0 : Own(residual).Ptr;
        var y = New(shape);
        try
        {
            var plan = Cudnn.CachedPlan(spec) ?? SearchPlan(cudnn, spec, px, pw, y.Ptr);
            if (plan.Best is not { } best)
            {
                y.Dispose();
                return null;
            }
            if (!unfused && bias is not null && plan.Fused is { } fused)
            {
                var fws = fused.WorkspaceBytes > 0 ? Scratch(fused.WorkspaceBytes) : null;
                bool done;
                try { done = cudnn.TryForwardBiasAdd(plan, px, pw, pb, pr, y.Ptr, fws?.Ptr ?? 0, fused.WorkspaceBytes); }
                finally { fws?.Release(); }
                if (done)
                {
                    LibraryCalls++;
                    if (s_syncEachLaunch) _stream.Synchronize();
                    return y;
                }
                plan.Fused = null; // cuDNN declined the configuration after all: the unfused path from now on
                if (s_cudnnLog) Console.Error.WriteLine($"cudnn: conv {spec}: the fused call is not supported, unfused from now on");
            }
            var ws = best.WorkspaceBytes > 0 ? Scratch(best.WorkspaceBytes) : null;
            bool ran;
            try { ran = cudnn.TryForward(plan, px, pw, y.Ptr, ws?.Ptr ?? 0, best.WorkspaceBytes); }
            finally { ws?.Release(); }
            if (!ran)
            {
                // The search's pick cannot run after all: no cuDNN for this shape from now on (im2col where NCHW).
                plan.Unsupported = $"cudnnConvolutionForward declined {best}";
                plan.Best = null;
                plan.Fused = null;
                if (s_cudnnLog) Console.Error.WriteLine("cudnn: " + plan.Describe());
                y.Dispose();
                return null;
            }
            LibraryCalls++;
            if (s_syncEachLaunch) _stream.Synchronize();
            ConvEpilogue(y, bias, residual, spec.K, spec.Nhwc ? 1 : (long)spec.OutH * spec.OutW);
            return y;
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }

    private CudnnConvPlan SearchPlan(Cudnn cudnn, in ConvSpec spec, ulong px, ulong pw, ulong py)
    {
        CudnnConvPlan plan;
        if (_cudnnFind)
        {
            // Find runs every algorithm on x, w and y (y is overwritten before the real call) with this much workspace.
            var ws = Scratch(Cudnn.MaxWorkspaceBytes);
            try { plan = cudnn.Search(spec, px, pw, py, ws.Ptr, Cudnn.MaxWorkspaceBytes, timed: true); }
            finally { ws.Release(); }
        }
        else plan = cudnn.Search(spec, px, pw, py, 0, 0, timed: false);
        if (s_cudnnLog) Console.Error.WriteLine("cudnn: " + plan.Describe());
        return plan;
    }

    /// <summary>
    /// What the fused call would have added: bias per channel (channel stride <paramref name="plane"/>: H·W for NCHW,
    /// 1 for NHWC, where each "plane" is one element, slow but only the unfused NHWC comparison path goes there) and
    /// the residual, each in fp32 and rounded once to the storage type.
    /// </summary>
    private void ConvEpilogue(CudaTensor y, Tensor? bias, Tensor? residual, int channels, long plane)
    {
        if (bias is not null) ChannelBias(y, bias, channels, plane);
        if (residual is not null) Launch(new LdAxpy(y.Count, Own(residual).Ptr, y.Ptr, 1f), Stride(y.Count));
    }

    /// <summary>y[planes, plane] += bias[plane index % channels] (a convolution's bias after its GEMM).</summary>
    private void ChannelBias(CudaTensor y, Tensor bias, int channels, long plane)
    {
        long planes = y.Count / plane;
        Launch(new LdChannelBias(planes, y.Ptr, Own(bias).Ptr, channels, checked((int)plane)),
            new Grid((uint)((plane + 2047) / 2048), 256, (uint)Math.Clamp(planes, 1, 65535)));
    }
}
