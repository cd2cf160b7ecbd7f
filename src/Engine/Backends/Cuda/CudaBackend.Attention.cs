using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>Which attention implementation runs (LD_ATTENTION=auto|simt|mma|mma2|gemm picks it for a process).</summary>
public enum AttentionKernel
{
    /// <summary>
    /// The default, from H200 timings: tensor cores for head width 64 in fp16 / bf16, the SIMT flash kernel for head
    /// width 8 (and, untimed, below 8), the few-keys kernel for at most 16 keys, the general GEMM path otherwise (fp32
    /// head width 64 included).
    /// </summary>
    Auto,
    /// <summary>The SIMT flash kernels for head widths 64 and up to 8 in every precision; otherwise as Auto.</summary>
    Simt,
    /// <summary>Tensor cores (mma.sync) for head width 64 in fp16 / bf16; otherwise as Auto.</summary>
    Mma,
    /// <summary>
    /// The newer tensor-core kernels in fp16 / bf16: head width 64 with at most 80 keys (cross-attention on 77 tokens)
    /// on the single-tile kernel (kernels/attention_cross.cu), other head-width-64 attention on the pipelined one
    /// (kernels/attention_mma2.cu: cp.async double buffering, ldmatrix), head width 8 on mma.m16n8k8
    /// (kernels/attention_d8.cu); otherwise as Auto. Not the default until a GPU run has checked and timed them
    /// (scripts/gpu-check.sh: attention_mma2 cases, time_attention_mma2, stage bench_mma2).
    /// </summary>
    Mma2,
    /// <summary>The general path everywhere: GEMM, masked softmax, GEMM.</summary>
    Gemm,
}

public sealed unsafe partial class CudaBackend
{
    /// <summary>The attention implementation (tests and timings switch it; LD_ATTENTION sets the initial value).</summary>
    public AttentionKernel AttentionKernel { get; set; } = ParseAttentionKernel(Environment.GetEnvironmentVariable("LD_ATTENTION"));

    private static AttentionKernel ParseAttentionKernel(string? s) => s?.ToLowerInvariant() switch
    {
        null or "" or "auto" => AttentionKernel.Auto,
        "simt" => AttentionKernel.Simt,
        "mma" => AttentionKernel.Mma,
        "mma2" => AttentionKernel.Mma2,
        "gemm" or "general" => AttentionKernel.Gemm,
        _ => throw new InvalidOptionException("LD_ATTENTION", $"'{s}' is not one of auto, simt, mma, mma2, gemm"),
    };

    /// <summary>Largest fp32 score block of the general attention path (bytes).</summary>
    private const long ScoreBudget = 256L << 20;

    /// <summary>
    /// Head width 64 in fp16 / bf16 runs the tensor-core flash kernel (kernels/attention_mma.cu); head widths 64 and 8
    /// otherwise run the SIMT flash kernels (kernels/attention.cu), as do widths below 8 (ld_flash_small); at most 16
    /// keys the few-keys kernel (kernels/attention_fewkeys.cu); any other width (the VAE's 512-wide head) runs the
    /// general path: per batch and query chunk, S = Q·Kᵀ in fp32 for all heads at once (strided
    /// batches over heads), masked scaled softmax into the storage dtype, then O = P·V written into [B, N, H·D].
    /// </summary>
    public Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, bool causal)
    {
        var y = New(ShapeRules.Attention(q, k, v, heads));
        int b = q.Dim(0), nq = q.Dim(1), width = q.Dim(2), nk = k.Dim(1);
        if (y.Count == 0 || nk == 0) return y;
        RunAttention(new AttentionCall(Own(q).Ptr, Own(k).Ptr, Own(v).Ptr, y.Ptr, b, nq, nk, heads, width / heads, width, width), causal);
        return y;
    }

    /// <summary>
    /// Self-attention on a packed projection qkv [B, N, 3·H·D] (q | k | v along the last axis, as one Linear on
    /// concatenated weights makes it): the kernels read the three parts in place (row stride 3·H·D), nothing is split.
    /// </summary>
    public Tensor AttentionQkv(Tensor qkv, int heads, bool causal)
    {
        var (b, n, width) = ShapeRules.AttentionQkv(qkv, heads);
        var y = New([b, n, width]);
        if (y.Count == 0) return y;
        ulong p = Own(qkv).Ptr, part = (ulong)((long)width * ElementSize);
        RunAttention(new AttentionCall(p, p + part, p + 2 * part, y.Ptr, b, n, n, heads, width / heads, 3 * width, 3 * width), causal);
        return y;
    }

    /// <summary>Device operands of one attention: q, k, v rows Sq / Skv elements apart, o [B, Nq, H·D] contiguous.</summary>
    private readonly record struct AttentionCall(ulong Q, ulong K, ulong V, ulong O, int Batch, int Nq, int Nk, int Heads, int D, int Sq, int Skv)
    {
        public bool Aligned16 => ((Q | K | V | O) & 15) == 0 && Sq % 8 == 0 && Skv % 8 == 0;
    }

    /// <summary>Keys the single-tile kernel holds (kernels/attention_cross.cu: 10 n-tiles of 8).</summary>
    private const int CrossKernelKeys = 80;

    private void RunAttention(in AttentionCall a, bool causal)
    {
        int b = a.Batch, nq = a.Nq, nk = a.Nk, heads = a.Heads, d = a.D;
        float scale = 1f / MathF.Sqrt(d);
        int causalFlag = causal ? 1 : 0;
        bool mma2 = AttentionKernel == AttentionKernel.Mma2 && StorageType != DType.F32 && a.Aligned16;
        if (mma2 && d == 64 && nk <= CrossKernelKeys)
        {
            Launch(new LdFlashCrossD64(a.Q, a.K, a.V, a.O, nq, nk, heads, scale, causalFlag, a.Sq, a.Skv), new Grid((uint)((nq + 255) / 256), 128, (uint)heads, (uint)b));
            return;
        }
        if (mma2 && d == 8)
        {
            Launch(new LdFlashMmaD8(a.Q, a.K, a.V, a.O, nq, nk, heads, scale, causalFlag, a.Sq, a.Skv), new Grid((uint)((nq + 127) / 128), 256, (uint)heads, (uint)b));
            return;
        }
        if (mma2 && d == 64)
        {
            // 8 warps (128 queries) share each K/V tile; 4 warps when that would leave SMs idle (fewer than two blocks each).
            bool wide = (long)((nq + 127) / 128) * heads * b >= 2L * _device.MultiprocessorCount;
            int bq = wide ? 128 : 64;
            var m2grid = new Grid((uint)((nq + bq - 1) / bq), (uint)(bq * 2), (uint)heads, (uint)b);
            if (wide) Launch(new LdFlashMma2D64W8(a.Q, a.K, a.V, a.O, nq, nk, heads, scale, causalFlag, a.Sq, a.Skv), m2grid);
            else Launch(new LdFlashMma2D64W4(a.Q, a.K, a.V, a.O, nq, nk, heads, scale, causalFlag, a.Sq, a.Skv), m2grid);
            return;
        }
        if ((AttentionKernel is AttentionKernel.Auto or AttentionKernel.Mma or AttentionKernel.Mma2) && d == 64 && StorageType != DType.F32)
        {
            Launch(new LdFlashMmaD64(a.Q, a.K, a.V, a.O, nq, nk, heads, scale, causalFlag, a.Sq, a.Skv), new Grid((uint)((nq + 63) / 64), 128, (uint)heads, (uint)b));
            return;
        }
        // fp32 head width 64: the GEMM path measured 4.1 ms against the SIMT kernel's 9.6 ms (b2 h10 q4096, H200,
        // perf/RESULTS.md), so Auto takes it; head width 8 stays on SIMT (0.77 ms against 4.7 ms).
        bool simt = AttentionKernel == AttentionKernel.Simt
            || (AttentionKernel != AttentionKernel.Gemm && (d == 8 || (d == 64 && StorageType != DType.F32)));
        if (simt && (d == 64 || d == 8))
        {
            int bq = d == 64 ? 64 : 128;
            var grid = new Grid((uint)((nq + bq - 1) / bq), (uint)bq, (uint)heads, (uint)b);
            if (d == 64) Launch(new LdFlashD64(a.Q, a.K, a.V, a.O, nq, nk, heads, scale, causalFlag, a.Sq, a.Skv), grid);
            else Launch(new LdFlashD8(a.Q, a.K, a.V, a.O, nq, nk, heads, scale, causalFlag, a.Sq, a.Skv), grid);
            return;
        }
        // A handful of keys (SD1.5's temporal attention across frames: thousands of batch entries of 1-3 keys) in one
        // launch; the general path would launch three kernels per batch entry.
        bool fewKeys = AttentionKernel != AttentionKernel.Gemm && !causal && nk <= LdAttnFewKeys.MaxKeys;
        if (fewKeys)
        {
            Launch(new LdAttnFewKeys(a.Q, a.K, a.V, a.O, b, nq, nk, heads, d, scale, a.Sq, a.Skv), Stride((long)b * nq * heads));
            return;
        }
        // Heads narrower than 8 (tiny models: the golden SD1.5 UNet's 4-wide heads) on the d8 SIMT kernel with the width
        // as a parameter: the general path would store a [queries, keys] score block per head, 256 threads a row.
        if (AttentionKernel != AttentionKernel.Gemm && d < LdFlashSmall.MaxWidth)
        {
            Launch(new LdFlashSmall(a.Q, a.K, a.V, a.O, nq, nk, heads, d, scale, causalFlag, a.Sq, a.Skv), new Grid((uint)((nq + 127) / 128), 128, (uint)heads, (uint)b));
            return;
        }
        GeneralAttention(a, scale, causal);
    }

    private void GeneralAttention(in AttentionCall a, float scale, bool causal)
    {
        int b = a.Batch, nq = a.Nq, nk = a.Nk, heads = a.Heads, d = a.D;
        long width = (long)heads * d;
        int es = ElementSize;
        int qc = (int)Math.Clamp(ScoreBudget / (4L * heads * nk), 1, nq);
        var scores = Scratch(4L * heads * qc * nk);
        var probs = Scratch((long)es * heads * qc * nk);
        int c = causal ? 1 : 0;
        try
        {
            for (int bi = 0; bi < b; bi++)
            {
                for (int q0 = 0; q0 < nq; q0 += qc)
                {
                    int rows = Math.Min(qc, nq - q0);
                    ulong qb = a.Q + (ulong)(((long)bi * nq + q0) * a.Sq * es);
                    ulong kb = a.K + (ulong)((long)bi * nk * a.Skv * es);
                    ulong vb = a.V + (ulong)((long)bi * nk * a.Skv * es);
                    ulong ob = a.O + (ulong)(((long)bi * nq + q0) * width * es);
                    // Row-major S_h[rows, nk] = Q_h[rows, d] · K_hᵀ  ⇔  column-major S_hᵀ (nk × rows) = K_h (d × nk, T) · Q_hᵀ (d × rows).
                    Gemm(true, false, nk, rows, d, kb, a.Skv, qb, a.Sq, scores.Ptr, nk, CudaDataType.R32F,
                        batch: heads, strideA: d, strideB: d, strideD: (long)rows * nk);
                    Launch(new LdAttnSoftmax(scores.Ptr, probs.Ptr, nk, scale, c, q0, rows), new Grid((uint)(heads * rows), RowBlock(nk)));
                    // Row-major O_h[rows, d] = P_h[rows, nk] · V_h[nk, d]  ⇔  column-major O_hᵀ (d × rows) = V_hᵀ (d × nk) · P_hᵀ (nk × rows).
                    Gemm(false, false, d, rows, nk, vb, a.Skv, probs.Ptr, nk, ob, width, BlasType,
                        batch: heads, strideA: d, strideB: (long)rows * nk, strideD: d);
                }
            }
        }
        finally
        {
            scores.Release();
            probs.Release();
        }
    }
}
