using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Selftest;

/// <summary>
/// Convolution cases: every shape through the backend's default path (cuDNN where it loads), through im2col, and
/// through cuDNN's unfused path (best algorithm + our bias / residual kernels); Conv2dAdd (the residual fused into
/// the epilogue) the same ways; NHWC convolutions on cuDNN; cuDNN with TF32 allowed. The CPU reference ignores the
/// implementation switches. Timing-only cases at SDXL UNet and VAE sizes compare the implementations and the two
/// layouts on a GPU.
/// </summary>
internal static class ConvCases
{
    private static readonly ConvImplementation[] Paths = [ConvImplementation.Auto, ConvImplementation.Im2col, ConvImplementation.CudnnUnfused];

    public static List<SelftestCase> Build()
    {
        var c = new List<SelftestCase>();
        // (input, weight, stride, padding, bias)
        (int[] X, int[] W, int Stride, int Pad, bool Bias)[] convs =
        [
            ([1, 4, 32, 32], [320, 4, 3, 3], 1, 1, true),      // SDXL conv_in
            ([2, 64, 17, 19], [64, 64, 3, 3], 2, 1, true),     // downsample, odd sizes
            ([2, 320, 16, 16], [640, 320, 1, 1], 1, 0, true),  // 1×1 shortcut
            ([1, 3, 15, 15], [8, 3, 5, 5], 1, 2, false),
            ([1, 8, 9, 7], [4, 8, 4, 4], 2, 1, true),
            ([2, 16, 8, 8], [5, 16, 1, 1], 2, 0, false),       // strided 1×1 goes through im2col
        ];
        foreach (var (xs, ws, st, pad, bias) in convs)
            foreach (var path in Paths)
            {
                var inputs = bias ? new InputSpec[] { xs, ws, new[] { ws[0] } } : new InputSpec[] { xs, ws };
                c.Add(Footprint(new SelftestCase("conv2d" + Suffix(path), $"{Shapes(xs, ws)} s{st} p{pad}{(bias ? " +bias" : "")}", inputs,
                    (b, x) => WithConv(b, path, () => b.Conv2d(x[0], x[1], bias ? x[2] : null, st, pad))) { Unavailable = NeedsCudnn(path) }, path, bias, false));
            }

        // Conv2d + residual: a ResNet block's second convolution and skip add (bias fused with it on cuDNN; without a
        // bias the fused call cannot run and the residual goes through the unfused path).
        (int[] X, int[] W, int Stride, int Pad, bool Bias)[] adds =
        [
            ([2, 64, 16, 16], [64, 64, 3, 3], 1, 1, true),
            ([1, 4, 32, 32], [320, 4, 3, 3], 1, 1, true),
            ([2, 64, 17, 19], [64, 64, 3, 3], 2, 1, true),
            ([2, 320, 16, 16], [640, 320, 1, 1], 1, 0, true),
            ([1, 3, 15, 15], [8, 3, 5, 5], 1, 2, false),
        ];
        foreach (var (xs, ws, st, pad, bias) in adds)
            foreach (var path in Paths)
            {
                int[] ys = [xs[0], ws[0], (xs[2] + 2 * pad - ws[2]) / st + 1, (xs[3] + 2 * pad - ws[3]) / st + 1];
                var inputs = new InputSpec[] { xs, ws, bias ? new[] { ws[0] } : new[] { 1 }, ys };
                c.Add(Footprint(new SelftestCase("conv2d_add" + Suffix(path), $"{Shapes(xs, ws)} s{st} p{pad}{(bias ? " +bias" : "")} +residual {Shapes(ys)}", inputs,
                    (b, x) => WithConv(b, path, () => b.Conv2dAdd(x[0], x[1], bias ? x[2] : null, st, pad, x[3]))) { Unavailable = NeedsCudnn(path) }, path, bias, true));
            }

        // NHWC on cuDNN (the layout of a possible NHWC-throughout network), with and without bias and residual.
        (int[] X, int[] W, int Stride, int Pad, bool Bias, bool Residual)[] nhwc =
        [
            ([2, 64, 17, 19], [64, 64, 3, 3], 2, 1, true, false),
            ([1, 4, 32, 32], [320, 4, 3, 3], 1, 1, true, true),
            ([2, 16, 8, 8], [5, 16, 1, 1], 2, 0, false, false),
        ];
        foreach (var (xs, ws, st, pad, bias, residual) in nhwc)
            foreach (bool unfused in new[] { false, true })
            {
                int[] ys = [xs[0], ws[0], (xs[2] + 2 * pad - ws[2]) / st + 1, (xs[3] + 2 * pad - ws[3]) / st + 1];
                var inputs = new InputSpec[] { xs, ws, bias ? new[] { ws[0] } : new[] { 1 }, residual ? ys : new[] { 1 } };
                c.Add(new SelftestCase("conv2d_nhwc" + (unfused ? "_unfused" : ""), $"{Shapes(xs, ws)} s{st} p{pad}{(bias ? " +bias" : "")}{(residual ? " +residual" : "")}", inputs,
                    (b, x) => Nhwc(b, x[0], x[1], bias ? x[2] : null, st, pad, residual ? x[3] : null, unfused)) { Unavailable = NeedsCudnn(ConvImplementation.Cudnn) });
            }

        // TF32 on cuDNN (the fp32 VAE sibling): fp16-like operand rounding, so the TF32 bound; plain at fp16 / bf16.
        c.Add(new SelftestCase("conv2d_tf32", "[1,32,24,20] w[64,32,3,3] s1 p1 +bias", [new[] { 1, 32, 24, 20 }, new[] { 64, 32, 3, 3 }, new[] { 64 }],
            (b, x) => SelftestCases.WithTf32(b, () => WithConv(b, ConvImplementation.Cudnn, () => b.Conv2d(x[0], x[1], x[2], 1, 1))))
        { ToleranceScale = SelftestCases.Tf32Scale, Unavailable = NeedsCudnn(ConvImplementation.Cudnn) });

        AddTimings(c);
        return c;
    }

    /// <summary>
    /// SDXL shapes, 1024×1024: the UNet's 3×3 convolutions at each level (batch 2) and the VAE decoder's two largest
    /// (batch 1), through each implementation and on NHWC data (no transposes: what NHWC throughout would run).
    /// </summary>
    private static void AddTimings(List<SelftestCase> c)
    {
        (int[] X, int C)[] shapes = [([2, 320, 128, 128], 320), ([2, 640, 64, 64], 640), ([2, 1280, 32, 32], 1280), ([1, 256, 512, 512], 256), ([1, 128, 1024, 1024], 128)];
        foreach (var (xs, co) in shapes)
        {
            int[] ws = [co, xs[1], 3, 3];
            string detail = $"{Shapes(xs, ws)} +bias";
            foreach (var path in Paths)
                c.Add(new SelftestCase("time_conv2d" + Suffix(path), detail, [xs, ws, new[] { co }],
                    (b, x) => WithConv(b, path, () => b.Conv2d(x[0], x[1], x[2], 1, 1))) { TimingOnly = true, Unavailable = NeedsCudnn(path) });
            int[] xn = [xs[0], xs[2], xs[3], xs[1]], wn = [co, 3, 3, xs[1]];
            c.Add(new SelftestCase("time_conv2d_nhwc", $"{Shapes(xn, wn)} +bias", [xn, wn, new[] { co }],
                (b, x) => NhwcOnData(b, x[0], x[1], x[2])) { TimingOnly = true, Unavailable = NeedsCudnn(ConvImplementation.Cudnn) });
        }
        // The residual add fused (cuDNN) against the convolution and a separate add (im2col, unfused cuDNN).
        int[] rx = [2, 640, 64, 64], rw = [640, 640, 3, 3];
        foreach (var path in Paths)
            c.Add(new SelftestCase("time_conv2d_add" + Suffix(path), $"{Shapes(rx, rw)} +bias +residual", [rx, rw, new[] { 640 }, rx],
                (b, x) => WithConv(b, path, () => b.Conv2dAdd(x[0], x[1], x[2], 1, 1, x[3]))) { TimingOnly = true, Unavailable = NeedsCudnn(path) });
        // The VAE sibling's TF32 convolutions (fp32 runs: `--precision fp32 --time`).
        int[] vx = [1, 256, 512, 512], vw = [256, 256, 3, 3];
        c.Add(new SelftestCase("time_conv2d_tf32", $"{Shapes(vx, vw)} +bias", [vx, vw, new[] { 256 }],
            (b, x) => SelftestCases.WithTf32(b, () => b.Conv2d(x[0], x[1], x[2], 1, 1))) { TimingOnly = true });
    }

    /// <summary>
    /// cuDNN's unfused path: the convolution is one cuDNN call (no kernel of ours, no GEMM), then one launch each for
    /// the bias and the residual, and nothing held beyond the output but the algorithm's workspace.
    /// </summary>
    private static SelftestCase Footprint(SelftestCase c, ConvImplementation path, bool bias, bool residual) =>
        path != ConvImplementation.CudnnUnfused ? c
        : c with { Launches = ((bias ? 1 : 0) + (residual ? 1 : 0), 0), MaxScratchBytes = Interop.Cudnn.MaxWorkspaceBytes };

    private static string Suffix(ConvImplementation path) => path switch
    {
        ConvImplementation.Im2col => "_im2col",
        ConvImplementation.CudnnUnfused => "_cudnn_unfused",
        ConvImplementation.Cudnn => "_cudnn",
        _ => "",
    };

    private static string Shapes(params int[][] shapes) => string.Join(" ", shapes.Select(s => Shape.Format(s)));

    /// <summary>Cases that force cuDNN are skipped (with the reason) on a CUDA backend without it.</summary>
    private static Func<IBackend, string?>? NeedsCudnn(ConvImplementation path) =>
        path is ConvImplementation.Cudnn or ConvImplementation.CudnnUnfused ? b => b is CudaBackend cb ? cb.CudnnUnavailableReason : null : null;

    /// <summary>
    /// Runs an op with one convolution implementation; Auto leaves the backend's own choice (LD_CONV) alone, so
    /// `LD_CONV=im2col ld selftest` runs the plain cases through im2col. The CPU reference ignores it.
    /// </summary>
    internal static Tensor WithConv(IBackend b, ConvImplementation path, Func<Tensor> op)
    {
        if (b is not CudaBackend cb || path == ConvImplementation.Auto) return op();
        var before = cb.ConvImplementation;
        cb.ConvImplementation = path;
        try { return op(); }
        finally { cb.ConvImplementation = before; }
    }

    /// <summary>NCHW in and out; on a CUDA backend the convolution itself runs on NHWC data (KRSC filter).</summary>
    private static Tensor Nhwc(IBackend b, Tensor x, Tensor w, Tensor? bias, int stride, int pad, Tensor? residual, bool unfused)
    {
        if (b is not CudaBackend cb) return residual is null ? b.Conv2d(x, w, bias, stride, pad) : b.Conv2dAdd(x, w, bias, stride, pad, residual);
        using var xn = cb.Permute(x, 0, 2, 3, 1);
        using var wn = cb.Permute(w, 0, 2, 3, 1);
        using var rn = residual is null ? null : cb.Permute(residual, 0, 2, 3, 1);
        using var yn = cb.Conv2dNhwc(xn, wn, bias, stride, pad, rn, unfused);
        return cb.Permute(yn, 0, 3, 1, 2);
    }

    /// <summary>The NHWC convolution on data already in NHWC (timing); elsewhere the same through NCHW.</summary>
    private static Tensor NhwcOnData(IBackend b, Tensor xn, Tensor wn, Tensor bias)
    {
        if (b is CudaBackend cb) return cb.Conv2dNhwc(xn, wn, bias, 1, 1);
        using var x = b.Permute(xn, 0, 3, 1, 2);
        using var w = b.Permute(wn, 0, 3, 1, 2);
        using var y = b.Conv2d(x, w, bias, 1, 1);
        return b.Permute(y, 0, 2, 3, 1);
    }
}
