using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Random;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Selftest;

/// <summary>LoadWeight from a safetensors file stored as F32, F16 or BF16 (the CPU backend's load is the reference).</summary>
internal static class WeightLoading
{
    public static SelftestCase Case(DType stored)
    {
        int[] shape = [64, 33, 3];
        return new SelftestCase("load_weight", $"{DTypes.Name(stored)} {Shape.Format(shape)}", [shape], null)
        {
            HostRun = (b, x) =>
            {
                string path = Path.Combine(Path.GetTempPath(), $"ld-selftest-{Environment.ProcessId}-{DTypes.Name(stored)}.safetensors");
                try
                {
                    new SafeTensorsWriter().Add("w", stored, shape, Encode(x[0], stored)).Write(path);
                    using var f = SafeTensorsFile.Open(path);
                    using var t = b.LoadWeight(f, "w");
                    return b.ToHost(t);
                }
                finally { File.Delete(path); }
            },
        };
    }

    private static byte[] Encode(float[] v, DType t)
    {
        switch (t)
        {
            case DType.F32: return System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
            case DType.F16:
            {
                var r = new byte[v.Length * 2];
                for (int i = 0; i < v.Length; i++) BitConverter.TryWriteBytes(r.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)v[i]));
                return r;
            }
            default:
            {
                var r = new byte[v.Length * 2];
                for (int i = 0; i < v.Length; i++) BitConverter.TryWriteBytes(r.AsSpan(2 * i), IO.Convert.ToBFloat16(v[i]));
                return r;
            }
        }
    }
}

/// <summary>IBackend.MergeLora against W + scale · up · down accumulated in double on the host.</summary>
internal static class LoraMerge
{
    public static SelftestCase Case(int[] weight, int[] up, int[] down, string what)
    {
        const float Scale = 0.75f;
        return new SelftestCase("merge_lora", $"{what} W{Shape.Format(weight)} up{Shape.Format(up)} down{Shape.Format(down)}", [weight, up, down], null)
        {
            HostRun = (b, x) =>
            {
                using var scope = TensorScope.Open();
                return b.ToHost(b.MergeLora(b.FromHost(x[0], weight), b.FromHost(x[1], up), b.FromHost(x[2], down), Scale));
            },
            Reference = x =>
            {
                int outs = weight[0], rank = up[1], inOld = weight[1];
                int inner = (int)(Shape.Count(weight) / ((long)outs * inOld));
                int cols = (int)(Shape.Count(down) / rank), inNew = cols / inner;
                var r = new float[outs * cols];
                for (int o = 0; o < outs; o++)
                    for (int col = 0; col < cols; col++)
                    {
                        int ic = col / inner, k = col % inner;
                        double acc = ic < inOld ? x[0][(o * inOld + ic) * inner + k] : 0;
                        double prod = 0;
                        for (int j = 0; j < rank; j++) prod += (double)x[1][o * rank + j] * x[2][j * cols + col];
                        r[o * cols + col] = (float)(acc + Scale * prod);
                    }
                return r;
            },
        };
    }
}

/// <summary>IBackend.MergeDiff against W (grown with zero input channels) + scale · ΔW in double on the host.</summary>
internal static class DiffMerge
{
    public static SelftestCase Case(int[] weight, int[] delta, string what)
    {
        const float Scale = -0.6f;
        return new SelftestCase("merge_diff", $"{what} W{Shape.Format(weight)} dW{Shape.Format(delta)}", [weight, delta], null)
        {
            HostRun = (b, x) =>
            {
                using var scope = TensorScope.Open();
                return b.ToHost(b.MergeDiff(b.FromHost(x[0], weight), b.FromHost(x[1], delta), Scale));
            },
            Reference = x =>
            {
                if (weight.Length == 1) return x[0].Select((w, i) => (float)(w + (double)Scale * x[1][i])).ToArray();
                int outs = weight[0], inOld = weight[1], inNew = delta[1];
                int inner = (int)(Shape.Count(weight) / ((long)outs * inOld));
                var r = new float[x[1].Length];
                for (int o = 0; o < outs; o++)
                    for (int ic = 0; ic < inNew; ic++)
                        for (int k = 0; k < inner; k++)
                        {
                            int i = (o * inNew + ic) * inner + k;
                            double w0 = ic < inOld ? x[0][(o * inOld + ic) * inner + k] : 0;
                            r[i] = (float)(w0 + (double)Scale * x[1][i]);
                        }
                return r;
            },
        };
    }
}

/// <summary>
/// The GPU noise source (kernels/random.cu) against the CPU emulation of torch's CUDA randn. Runs at an explicit,
/// small thread count so that every element past the first T exercises torch's grid-stride layout, then through a
/// generator for two draws (the second starts at the advanced Philox offset). The device uses the fast sin/cos that
/// curand does, so values agree to a few 1e-6, not bit for bit (the golden rng_torch_cuda bound is 5e-6).
/// </summary>
internal static class PhiloxNoise
{
    public static SelftestCase Case(long seed, long threads, int n)
    {
        return new SelftestCase("randn_philox", $"seed {seed}, {threads} torch threads, n {n}, then 2 draws of 1000, max_abs <= 5e-6", [new[] { 1 }], null)
        {
            HostRun = (b, _) =>
            {
                // Every backend computes the draws (the CPU on the host); two draws of 1000 are laid out the same
                // on every SM count (n ≤ 2048 ≤ T), so the GPU's own layout matches the CPU's.
                var gen = new TorchCudaGenerator(seed, b);
                return [.. b.PhiloxNormal(unchecked((ulong)seed), 3, threads, n), .. gen.Randn(1000), .. gen.Randn(1000)];
            },
            MaxAbsBound = 5e-6, // issue 9's rng_torch_cuda bound, for every element
        };
    }
}

/// <summary>CudaBackend.ToBytes (NCHW to interleaved bytes) against the same formula on the host; exact.</summary>
internal static class ImageBytes
{
    public static SelftestCase Case()
    {
        int[] shape = [2, 4, 13, 7];
        return new SelftestCase("to_bytes", $"RGBA {Shape.Format(shape)}", [new(shape, -1.2f, 1.2f)], null)
        {
            HostRun = (b, x) =>
            {
                if (b is not CudaBackend cb) throw new InvalidOperationException("to_bytes runs on the CUDA backend only");
                using var t = cb.FromHost(x[0], shape);
                // Compare on the values the device rounded to: bytes from the stored (possibly fp16) tensor.
                return cb.ToBytes(t, 127.5f, 127.5f).Select(v => (float)v).ToArray();
            },
            Reference = x =>
            {
                int n = shape[0], c = shape[1], hw = shape[2] * shape[3];
                var r = new float[x[0].Length];
                for (int img = 0; img < n; img++)
                    for (int p = 0; p < hw; p++)
                        for (int ch = 0; ch < c; ch++)
                            r[(img * hw + p) * c + ch] = MathF.Round(Math.Clamp(x[0][(img * c + ch) * hw + p] * 127.5f + 127.5f, 0f, 255f), MidpointRounding.ToEven);
                return r;
            },
            ToleranceScale = 1, // bytes differ only where x·127.5 + 127.5 lands within rounding of a .5 boundary
            Unavailable = CudaOnly.Reason,
        };
    }
}

/// <summary>CudaBackend.Import from a second (fp32) CUDA backend: a device-side conversion, exact after rounding.</summary>
internal static class CrossBackendImport
{
    public static SelftestCase Case()
    {
        int[] shape = [3, 5, 77];
        return new SelftestCase("import", $"from an fp32 CUDA backend {Shape.Format(shape)}", [shape], null)
        {
            HostRun = (b, x) =>
            {
                if (b is not CudaBackend cb) throw new InvalidOperationException("import runs on the CUDA backend only");
                var (other, why) = CudaBackend.TryCreate(Verify.Precision.Fp32);
                using var o = other ?? throw new InvalidOperationException("second backend: " + why);
                using var t = o.FromHost(x[0], shape);
                using var y = cb.Import(t);
                return cb.ToHost(y);
            },
            Reference = x => x[0],
            Unavailable = CudaOnly.Reason,
        };
    }
}

/// <summary>Cases of CUDA-only entry points: skipped, not failed, on another backend (`ld selftest --device cpu`).</summary>
internal static class CudaOnly
{
    public static string? Reason(IBackend b) => b is CudaBackend ? null : "a CUDA backend entry point (not on " + b.Name + ")";
}
