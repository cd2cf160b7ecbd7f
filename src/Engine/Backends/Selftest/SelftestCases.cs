using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Selftest;

/// <summary>
/// Every IBackend op on shapes the models use (SDXL: head width 64 with 77 keys, 77×77 causal, GroupNorm with 32
/// groups; the transparent decoder: head width 8; the VAE: one 512-wide head) and odd sizes that catch tail and
/// indexing bugs. Sizes are kept so that the CPU reference finishes in seconds.
/// </summary>
public static class SelftestCases
{
    public static IReadOnlyList<SelftestCase> All { get; } = Build();

    private static SelftestCase Case(string op, string detail, InputSpec[] inputs, Func<IBackend, Tensor[], Tensor> run) => new(op, detail, inputs, run);

    private static string S(params int[][] shapes) => string.Join(" ", shapes.Select(s => Shape.Format(s)));

    private static List<SelftestCase> Build()
    {
        var c = new List<SelftestCase>();

        // ---- data movement (every case uploads and reads back; these name the ops and add odd sizes)
        c.Add(Case("from_host", S([1]), [new[] { 1 }], (b, x) => x[0]));
        c.Add(Case("to_host", S([3, 1001, 5]), [new[] { 3, 1001, 5 }], (b, x) => x[0]));
        c.Add(Case("reshape", "[2,320,16,16] -> [2,320,-1]", [new[] { 2, 320, 16, 16 }], (b, x) => b.Reshape(x[0], 2, 320, -1)));

        // ---- activations
        foreach (var shape in new[] { new[] { 2, 320, 33, 17 }, new[] { 7 } })
        {
            c.Add(Case("silu", S(shape), [new(shape, -6, 6)], (b, x) => b.Silu(x[0])));
            c.Add(Case("gelu", S(shape), [new(shape, -6, 6)], (b, x) => b.Gelu(x[0])));
            c.Add(Case("quick_gelu", S(shape), [new(shape, -6, 6)], (b, x) => b.QuickGelu(x[0])));
            c.Add(Case("affine", S(shape), [shape], (b, x) => b.Affine(x[0], 0.18215f, -0.5f)));
            c.Add(Case("clamp", S(shape), [new(shape, -2, 2)], (b, x) => b.Clamp(x[0], -1f, 0.75f)));
        }
        foreach (var shape in new[] { new[] { 2, 77, 1280 }, new[] { 3, 10 }, new[] { 2, 5, 24 } })
            c.Add(Case("geglu", S(shape), [new(shape, -4, 4)], (b, x) => b.Geglu(x[0])) with { Launches = (1, 0), MaxScratchBytes = 0 });

        // ---- elementwise with broadcasting
        int[][][] pairs =
        [
            [[2, 320, 16, 16], [2, 320, 16, 16]],
            [[2, 320, 16, 16], [320, 1, 1]],
            [[2, 320, 16, 16], [2, 320, 1, 1]],
            [[2, 77, 768], [768]],
            [[2, 4096, 64], [2, 1, 64]],
            [[3, 5, 7], [1]],
            [[2, 1, 5], [3, 1]],
            [[1, 9], [4, 1, 1]],
            [[5, 13], [5, 13]], // same shape, a partial last slot of 8
        ];
        foreach (var p in pairs)
        {
            c.Add(Case("add", S(p), [p[0], p[1]], (b, x) => b.Add(x[0], x[1])));
            c.Add(Case("sub", S(p), [p[0], p[1]], (b, x) => b.Sub(x[0], x[1])));
            c.Add(Case("mul", S(p), [p[0], p[1]], (b, x) => b.Mul(x[0], x[1])));
        }

        // ---- linear algebra
        c.Add(Case("linear", "x[2,77,768] w[1280,768] +bias", [new[] { 2, 77, 768 }, new[] { 1280, 768 }, new[] { 1280 }], (b, x) => b.Linear(x[0], x[1], x[2])));
        c.Add(Case("linear", "x[2,256,320] w[320,320]", [new[] { 2, 256, 320 }, new[] { 320, 320 }], (b, x) => b.Linear(x[0], x[1], null)));
        c.Add(Case("linear", "x[3,33] w[17,33] +bias", [new[] { 3, 33 }, new[] { 17, 33 }, new[] { 17 }], (b, x) => b.Linear(x[0], x[1], x[2])));
        c.Add(Case("linear", "x[2,2816] w[1280,2816] +bias", [new[] { 2, 2816 }, new[] { 1280, 2816 }, new[] { 1280 }], (b, x) => b.Linear(x[0], x[1], x[2])));
        // Linear with the residual add as the GEMM's epilogue: one product, nothing else launched or stored.
        (int[] X, int[] W, bool Bias)[] linearAdds = [([2, 77, 768], [1280, 768], true), ([2, 256, 320], [320, 320], false), ([3, 33], [17, 33], true)];
        foreach (var (xs, ws, hasBias) in linearAdds)
        {
            int[] ys = [.. xs[..^1], ws[0]];
            InputSpec[] inputs = hasBias ? [xs, ws, ys, new[] { ws[0] }] : [xs, ws, ys];
            string detail = $"x{Shape.Format(xs)} w{Shape.Format(ws)}{(hasBias ? " +bias" : "")} +residual";
            c.Add(Case("linear_add", detail, inputs, (b, x) => b.LinearAdd(x[0], x[1], hasBias ? x[3] : null, x[2])) with { Launches = (0, 1), MaxScratchBytes = 0 });
            c.Add(Case("gemm_fallback", "linear_add " + detail, inputs, (b, x) => WithFallbackGemm(b, () => b.LinearAdd(x[0], x[1], hasBias ? x[3] : null, x[2]))));
        }
        c.Add(Case("matmul", S([3, 17, 33], [3, 33, 9]), [new[] { 3, 17, 33 }, new[] { 3, 33, 9 }], (b, x) => b.MatMul(x[0], x[1])));
        c.Add(Case("matmul", S([17, 33], [33, 9]), [new[] { 17, 33 }, new[] { 33, 9 }], (b, x) => b.MatMul(x[0], x[1])));
        c.Add(Case("matmul", S([2, 5, 7], [7, 3]), [new[] { 2, 5, 7 }, new[] { 7, 3 }], (b, x) => b.MatMul(x[0], x[1])));
        c.Add(Case("matmul", S([2, 256, 64], [2, 64, 256]), [new[] { 2, 256, 64 }, new[] { 2, 64, 256 }], (b, x) => b.MatMul(x[0], x[1])));

        // ---- convolutions: every implementation (cuDNN fused / unfused / NHWC, im2col), the fused residual add
        c.AddRange(ConvCases.Build());

        // The plain GEMM kernel that stands in where cuBLASLt has no algorithm, on the same kinds of products.
        c.Add(Case("gemm_fallback", "linear x[2,77,96] w[40,96] +bias", [new[] { 2, 77, 96 }, new[] { 40, 96 }, new[] { 40 }], (b, x) => WithFallbackGemm(b, () => b.Linear(x[0], x[1], x[2]))));
        c.Add(Case("gemm_fallback", "matmul [3,17,33]x[3,33,9]", [new[] { 3, 17, 33 }, new[] { 3, 33, 9 }], (b, x) => WithFallbackGemm(b, () => b.MatMul(x[0], x[1]))));
        // TF32 operands (the VAE sibling's GEMMs): 10 mantissa bits, so fp16-like error; only fp32 backends use it.
        c.Add(Case("gemm_tf32", "linear x[2,77,640] w[320,640] +bias", [new[] { 2, 77, 640 }, new[] { 320, 640 }, new[] { 320 }], (b, x) => WithTf32(b, () => b.Linear(x[0], x[1], x[2]))) with { ToleranceScale = Tf32Scale });
        c.Add(Case("gemm_tf32", "conv2d [1,32,24,20] w[64,32,3,3] s1 p1 +bias", [new[] { 1, 32, 24, 20 }, new[] { 64, 32, 3, 3 }, new[] { 64 }], (b, x) => WithTf32(b, () => ConvCases.WithConv(b, ConvImplementation.Im2col, () => b.Conv2d(x[0], x[1], x[2], 1, 1)))) with { ToleranceScale = Tf32Scale });
        c.Add(Case("gemm_fallback", "conv2d [1,8,9,7] w[4,8,3,3] s1 p1 +bias", [new[] { 1, 8, 9, 7 }, new[] { 4, 8, 3, 3 }, new[] { 4 }], (b, x) => WithFallbackGemm(b, () => ConvCases.WithConv(b, ConvImplementation.Im2col, () => b.Conv2d(x[0], x[1], x[2], 1, 1)))));
        c.Add(Case("gemm_fallback", "attention general b2 q37 k50 h3 d40 causal", [new[] { 2, 37, 120 }, new[] { 2, 50, 120 }, new[] { 2, 50, 120 }], (b, x) => WithFallbackGemm(b, () => b.Attention(x[0], x[1], x[2], 3, true))));

        // ---- normalisation
        (int[] X, int G, bool Silu)[] gns =
        [
            ([2, 320, 16, 16], 32, true),
            ([1, 128, 65, 33], 32, false),
            ([2, 64, 7, 9], 32, true),
            ([1, 64, 256, 256], 32, false), // a group larger than one piece: exercises the merge of partial statistics
            ([3, 6, 5], 3, true),
        ];
        // Two launches (statistics, normalise) and only the per-piece statistics as scratch, with or without the add.
        const long GnScratch = 16 << 10;
        foreach (var (xs, g, silu) in gns)
        {
            c.Add(Case("group_norm", $"{S(xs)} g{g}{(silu ? " +silu" : "")}", [new(xs, -3, 5), new([xs[1]], 0.5f, 1.5f), new[] { xs[1] }],
                (b, x) => b.GroupNorm(x[0], g, x[1], x[2], 1e-5f, silu)) with { Launches = (2, 0), MaxScratchBytes = GnScratch });
            int[] add = xs.Length == 4 && xs[0] == 2 ? [xs[0], xs[1], 1, 1] : [xs[0], xs[1]];
            c.Add(Case("group_norm_add", $"{S(xs)} + {S(add)} g{g}{(silu ? " +silu" : "")}",
                [new(xs, -3, 5), new(add, -2, 2), new([xs[1]], 0.5f, 1.5f), new[] { xs[1] }],
                (b, x) => b.GroupNormAdd(x[0], x[1], g, x[2], x[3], 1e-5f, silu)) with { Launches = (2, 0), MaxScratchBytes = GnScratch });
        }
        // Rows held in registers (widths of whole slots of 8, up to 8192), and the plain two-pass loop otherwise.
        foreach (var xs in new[] { new[] { 2, 77, 768 }, new[] { 3, 5, 1280 }, new[] { 7, 33 }, new[] { 2, 4, 2560 }, new[] { 1, 3, 9000 } })
            c.Add(Case("layer_norm", S(xs), [new(xs, -2, 3), new([xs[^1]], 0.5f, 1.5f), new[] { xs[^1] }],
                (b, x) => b.LayerNorm(x[0], x[1], x[2], 1e-5f)) with { Launches = (1, 0), MaxScratchBytes = 0 });
        foreach (var xs in new[] { new[] { 2, 10, 77, 77 }, new[] { 3, 1000 }, new[] { 4, 4097 } })
            c.Add(Case("softmax", S(xs), [new(xs, -8, 8)], (b, x) => b.Softmax(x[0])));

        // ---- attention: (batch, queries, keys, heads, head width, causal)
        (int B, int Nq, int Nk, int H, int D, bool Causal, string What)[] attn =
        [
            (2, 1024, 1024, 2, 64, false, "self, d64"),
            (2, 1024, 77, 10, 64, false, "cross, 77 keys, d64"),
            (2, 300, 80, 4, 64, false, "cross, 80 keys (one full tile), d64"),
            (1, 70, 5, 2, 64, true, "causal, 5 keys, d64"),
            (2, 77, 77, 12, 64, true, "CLIP causal 77x77, d64"),
            (1, 33, 100, 3, 64, true, "causal, more keys than queries, d64"),
            (2, 256, 256, 8, 8, false, "transparent decoder, d8"),
            (1, 77, 200, 4, 8, true, "causal, d8"),
            (2, 300, 300, 8, 4, false, "small width: tiny SD1.5 UNet self-attention, d4"),
            (1, 90, 150, 3, 5, true, "small width, causal, more keys than queries, d5"),
            (1, 256, 256, 1, 512, false, "VAE mid-block, one 512-wide head"),
            (2, 100, 77, 3, 40, false, "general width 40"),
            (1, 70, 70, 2, 128, true, "general width 128, causal"),
            (512, 3, 3, 8, 40, false, "few keys: SD1.5 temporal attention across 3 frames, d40"),
            (300, 2, 2, 8, 4, false, "few keys: temporal across 2 frames, d4"),
            (64, 1, 1, 8, 160, false, "few keys: one frame, d160"),
            (3, 20, 16, 2, 24, false, "few keys: 16 keys (the kernel's most), d24"),
        ];
        foreach (var (bn, nq, nk, h, d, causal, what) in attn)
        {
            InputSpec[] inputs = [new[] { bn, nq, h * d }, new[] { bn, nk, h * d }, new[] { bn, nk, h * d }];
            string detail = $"b{bn} q{nq} k{nk} h{h} d{d}{(causal ? " causal" : "")} ({what})";
            c.Add(Case("attention", detail, inputs, (b, x) => b.Attention(x[0], x[1], x[2], h, causal)));
            if (d is 64 or 8) c.Add(Case("attention_mma2", detail, inputs, (b, x) => WithKernel(b, AttentionKernel.Mma2, x, h, causal)));
            if (d is 64 or 8)
            {
                c.Add(Case("attention_simt", detail, inputs, (b, x) => WithKernel(b, AttentionKernel.Simt, x, h, causal)));
                c.Add(Case("attention_general_path", detail, inputs, (b, x) => WithKernel(b, AttentionKernel.Gemm, x, h, causal)));
            }
            else if ((nk <= 16 && !causal) || d < 8) c.Add(Case("attention_general_path", detail, inputs, (b, x) => WithKernel(b, AttentionKernel.Gemm, x, h, causal)));
        }

        // Packed q|k|v (self-attention after one fused projection): every kernel family reads it in place.
        (int B, int N, int H, int D, bool Causal, string What)[] packed =
        [
            (2, 256, 4, 64, false, "d64"),
            (1, 77, 12, 64, true, "CLIP causal, d64"),
            (2, 256, 8, 8, false, "transparent decoder, d8"),
            (2, 130, 8, 4, false, "small width, d4"),
            (1, 100, 3, 40, false, "general width 40"),
            (300, 3, 8, 10, false, "few keys: temporal across 3 frames, d10"),
        ];
        foreach (var (bn, n, h, d, causal, what) in packed)
        {
            InputSpec[] inputs = [new[] { bn, n, 3 * h * d }];
            string detail = $"b{bn} n{n} h{h} d{d}{(causal ? " causal" : "")} ({what})";
            c.Add(Case("attention_qkv", detail, inputs, (b, x) => b.AttentionQkv(x[0], h, causal)));
            if (d is 64 or 8) c.Add(Case("attention_qkv_mma2", detail, inputs, (b, x) => WithKernel(b, AttentionKernel.Mma2, () => b.AttentionQkv(x[0], h, causal))));
            if (d <= 8 || d == 64) c.Add(Case("attention_qkv_general_path", detail, inputs, (b, x) => WithKernel(b, AttentionKernel.Gemm, () => b.AttentionQkv(x[0], h, causal))));
        }

        // ---- timing only (ld selftest --time): SDXL 1024×1024 shapes, fast kernels against the general GEMM path
        (int B, int Nq, int Nk, int H, int D, bool Causal)[] big =
        [
            (2, 4096, 4096, 10, 64, false),
            (2, 1024, 1024, 20, 64, false),
            (2, 4096, 77, 10, 64, false),
            (8, 4096, 4096, 4, 8, false),
            (1, 16384, 16384, 1, 512, false),
        ];
        foreach (var (bn, nq, nk, h, d, causal) in big)
        {
            InputSpec[] inputs = [new[] { bn, nq, h * d }, new[] { bn, nk, h * d }, new[] { bn, nk, h * d }];
            string detail = $"b{bn} q{nq} k{nk} h{h} d{d}";
            c.Add(Case("time_attention", detail, inputs, (b, x) => b.Attention(x[0], x[1], x[2], h, causal)) with { TimingOnly = true });
            if (d is 64 or 8) c.Add(Case("time_attention_mma2", detail, inputs, (b, x) => WithKernel(b, AttentionKernel.Mma2, x, h, causal)) with { TimingOnly = true });
            if (d is 64 or 8)
            {
                c.Add(Case("time_attention_simt", detail, inputs, (b, x) => WithKernel(b, AttentionKernel.Simt, x, h, causal)) with { TimingOnly = true });
                c.Add(Case("time_attention_general_path", detail, inputs, (b, x) => WithKernel(b, AttentionKernel.Gemm, x, h, causal)) with { TimingOnly = true });
            }
        }
        // Self-attention projections: three GEMMs against one on the concatenated weight (then packed attention).
        c.Add(Case("time_qkv_separate", "x[2,4096,640] 3 x w[640,640] + attention", [new[] { 2, 4096, 640 }, new[] { 640, 640 }, new[] { 640, 640 }, new[] { 640, 640 }],
            (b, x) => { using var q = b.Linear(x[0], x[1], null); using var k = b.Linear(x[0], x[2], null); using var v = b.Linear(x[0], x[3], null); return b.Attention(q, k, v, 10, false); }) with { TimingOnly = true });
        c.Add(Case("time_qkv_fused", "x[2,4096,640] w[1920,640] + packed attention", [new[] { 2, 4096, 640 }, new[] { 1920, 640 }],
            (b, x) => { using var qkv = b.Linear(x[0], x[1], null); return b.AttentionQkv(qkv, 10, false); }) with { TimingOnly = true });
        c.Add(Case("time_linear", "x[2,4096,640] w[5120,640] +bias", [new[] { 2, 4096, 640 }, new[] { 5120, 640 }, new[] { 5120 }], (b, x) => b.Linear(x[0], x[1], x[2])) with { TimingOnly = true });
        c.Add(Case("time_group_norm", "[2,640,64,64] g32 +silu", [new[] { 2, 640, 64, 64 }, new[] { 640 }, new[] { 640 }], (b, x) => b.GroupNorm(x[0], 32, x[1], x[2], 1e-5f, true)) with { TimingOnly = true });
        c.Add(Case("time_add", "[2,640,64,64] + [2,640,1,1]", [new[] { 2, 640, 64, 64 }, new[] { 2, 640, 1, 1 }], (b, x) => b.Add(x[0], x[1])) with { TimingOnly = true });
        c.Add(Case("time_add", "[2,640,64,64] + same", [new[] { 2, 640, 64, 64 }, new[] { 2, 640, 64, 64 }], (b, x) => b.Add(x[0], x[1])) with { TimingOnly = true });
        c.Add(Case("time_group_norm_add", "[2,640,64,64] + [2,640] g32 +silu", [new[] { 2, 640, 64, 64 }, new[] { 2, 640 }, new[] { 640 }, new[] { 640 }],
            (b, x) => b.GroupNormAdd(x[0], x[1], 32, x[2], x[3], 1e-5f, true)) with { TimingOnly = true });
        c.Add(Case("time_layer_norm", "[2,4096,640]", [new[] { 2, 4096, 640 }, new[] { 640 }, new[] { 640 }], (b, x) => b.LayerNorm(x[0], x[1], x[2], 1e-5f)) with { TimingOnly = true });
        c.Add(Case("time_permute", "[2,640,64,64] (0,2,3,1)", [new[] { 2, 640, 64, 64 }], (b, x) => b.Permute(x[0], 0, 2, 3, 1)) with { TimingOnly = true });
        c.Add(Case("time_geglu", "[2,4096,5120]", [new[] { 2, 4096, 5120 }], (b, x) => b.Geglu(x[0])) with { TimingOnly = true });
        c.Add(Case("time_linear_add", "x[2,4096,640] w[640,640] +bias +residual", [new[] { 2, 4096, 640 }, new[] { 640, 640 }, new[] { 640 }, new[] { 2, 4096, 640 }],
            (b, x) => b.LinearAdd(x[0], x[1], x[2], x[3])) with { TimingOnly = true });
        c.Add(Case("time_linear", "x[2,4096,640] w[640,640] +bias, then add", [new[] { 2, 4096, 640 }, new[] { 640, 640 }, new[] { 640 }, new[] { 2, 4096, 640 }],
            (b, x) => { using var l = b.Linear(x[0], x[1], x[2]); return b.Add(l, x[3]); }) with { TimingOnly = true });

        // ---- layout
        c.Add(Case("concat", "axis 1 [2,320,16,16]+[2,640,16,16]", [new[] { 2, 320, 16, 16 }, new[] { 2, 640, 16, 16 }], (b, x) => b.Concat(1, x[0], x[1])));
        c.Add(Case("concat", "axis -1 [2,77,5]+[2,77,3]+[2,77,1]", [new[] { 2, 77, 5 }, new[] { 2, 77, 3 }, new[] { 2, 77, 1 }], (b, x) => b.Concat(-1, x[0], x[1], x[2])));
        c.Add(Case("concat", "axis 0 [1,4,8,8]+[3,4,8,8]", [new[] { 1, 4, 8, 8 }, new[] { 3, 4, 8, 8 }], (b, x) => b.Concat(0, x[0], x[1])));
        c.Add(Case("slice", "axis 1 [2,960,8,8] 320+320", [new[] { 2, 960, 8, 8 }], (b, x) => b.Slice(x[0], 1, 320, 320)));
        c.Add(Case("slice", "axis -1 [2,77,1280] 640+640", [new[] { 2, 77, 1280 }], (b, x) => b.Slice(x[0], -1, 640, 640)));
        c.Add(Case("slice", "axis 0 [5,3,7] 1+3", [new[] { 5, 3, 7 }], (b, x) => b.Slice(x[0], 0, 1, 3)));
        c.Add(Case("permute", "[2,320,16,16] (0,2,3,1)", [new[] { 2, 320, 16, 16 }], (b, x) => b.Permute(x[0], 0, 2, 3, 1)));
        c.Add(Case("permute", "[2,77,10,64] (0,2,1,3)", [new[] { 2, 77, 10, 64 }], (b, x) => b.Permute(x[0], 0, 2, 1, 3)));
        c.Add(Case("permute", "[3,5,7] (2,0,1)", [new[] { 3, 5, 7 }], (b, x) => b.Permute(x[0], 2, 0, 1)));
        // Batched transposes (the tiled kernel) at sizes that are not multiples of its 32×32 tile, and size-1 axes.
        c.Add(Case("permute", "[2,16,16,320] (0,3,1,2)", [new[] { 2, 16, 16, 320 }], (b, x) => b.Permute(x[0], 0, 3, 1, 2)) with { Launches = (1, 0) });
        c.Add(Case("permute", "[2,77,45] (0,2,1)", [new[] { 2, 77, 45 }], (b, x) => b.Permute(x[0], 0, 2, 1)) with { Launches = (1, 0) });
        c.Add(Case("permute", "[33,65] (1,0)", [new[] { 33, 65 }], (b, x) => b.Permute(x[0], 1, 0)));
        c.Add(Case("permute", "[1,5,1,7] (3,1,0,2)", [new[] { 1, 5, 1, 7 }], (b, x) => b.Permute(x[0], 3, 1, 0, 2)));
        c.Add(Case("upsample2x", S([2, 320, 17, 9]), [new[] { 2, 320, 17, 9 }], (b, x) => b.Upsample2x(x[0])));
        foreach (bool flip in new[] { false, true })
            for (int k = 0; k < 4; k++)
                foreach (bool inverse in new[] { false, true })
                {
                    int kk = k;
                    c.Add(Case("flip_rot", $"[2,4,13,7] flip={flip} k={k}{(inverse ? " inverse" : "")}", [new[] { 2, 4, 13, 7 }],
                        (b, x) => b.FlipRot(x[0], flip, kk, inverse)));
                }
        c.Add(Case("median8", "8x[2,4,33,17]", Enumerable.Repeat(new InputSpec([2, 4, 33, 17]), 8).ToArray(), (b, x) => b.Median8(x)));
        c.Add(Case("unaugment_median8", "8 passes of [2,4,13,7]",
            Enumerable.Range(0, 8).Select(i => new InputSpec(i % 2 == 1 ? [2, 4, 7, 13] : [2, 4, 13, 7])).ToArray(), (b, x) => b.UnaugmentMedian8(x)));

        // ---- weights and operations outside IBackend
        foreach (var dt in new[] { DType.F32, DType.F16, DType.BF16 })
            c.Add(WeightLoading.Case(dt));
        c.Add(LoraMerge.Case([320, 640], [320, 8], [8, 640], "linear"));
        c.Add(LoraMerge.Case([64, 4, 3, 3], [64, 4], [4, 8, 3, 3], "conv, input grows 4 -> 8"));
        c.Add(DiffMerge.Case([320, 640], [320, 640], "linear"));
        c.Add(DiffMerge.Case([64, 4, 3, 3], [64, 8, 3, 3], "conv, input grows 4 -> 8"));
        c.Add(DiffMerge.Case([320], [320], "bias"));
        c.Add(ImageBytes.Case());
        c.Add(PhiloxNoise.Case(12345, 512, 5000));
        c.Add(PhiloxNoise.Case(-7, 96, 1001));
        c.Add(CrossBackendImport.Case());
        c.AddRange(ScopeRelease.Cases());
        return c;
    }

    /// <summary>
    /// TF32 rounds operands to 2^-11 relative, like fp16: the fp16 bound (2e-3) over fp32's (1e-5). Only an fp32
    /// backend uses TF32; at fp16 / bf16 these cases are plain GEMMs, checked at their own bounds by the linear cases.
    /// </summary>
    internal const double Tf32Scale = 200;

    internal static Tensor WithTf32(IBackend b, Func<Tensor> op)
    {
        if (b is not CudaBackend cb) return op();
        cb.UseTf32 = true;
        try { return op(); }
        finally { cb.UseTf32 = false; }
    }

    /// <summary>Runs an op with every GEMM on the plain kernel instead of cuBLASLt (the CPU reference ignores it).</summary>
    private static Tensor WithFallbackGemm(IBackend b, Func<Tensor> op)
    {
        if (b is not CudaBackend cb) return op();
        cb.ForceGemmFallback = true;
        try { return op(); }
        finally { cb.ForceGemmFallback = false; }
    }

    /// <summary>Attention through one chosen CUDA implementation (the CPU reference ignores the choice).</summary>
    private static Tensor WithKernel(IBackend b, AttentionKernel kernel, Tensor[] x, int heads, bool causal) =>
        WithKernel(b, kernel, () => b.Attention(x[0], x[1], x[2], heads, causal));

    private static Tensor WithKernel(IBackend b, AttentionKernel kernel, Func<Tensor> op)
    {
        if (b is not CudaBackend cb) return op();
        var before = cb.AttentionKernel;
        cb.AttentionKernel = kernel;
        try { return op(); }
        finally { cb.AttentionKernel = before; }
    }
}
