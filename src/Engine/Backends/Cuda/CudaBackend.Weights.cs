using System.Numerics;
using System.Runtime.InteropServices;
using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    private const int StagingBytes = 32 << 20;
    private PinnedHostMemory[]? _staging;
    private CudaEvent[]? _stagingFree;

    /// <summary>
    /// Streams a stored tensor from the memory-mapped file to the device without a full host copy: chunks go through
    /// two pinned staging buffers (filling one while the other uploads), are checked for non-finite values on the
    /// way (as the CPU backend does), and are converted on the device to the storage dtype (fp16 stays fp16 in fp16
    /// mode, bf16 stays bf16 in bf16 mode, anything is widened for fp32).
    /// </summary>
    public Tensor LoadWeight(SafeTensorsFile file, string name)
    {
        var info = file.Info(name);
        if (!DTypes.IsFloat(info.DType)) throw new ModelFormatException(file.Path, name, $"is {DTypes.Name(info.DType)}, expected a float tensor");
        var shape = (int[])info.Shape.Clone();
        if (info.DType == DType.F64)
        {
            var host = file.ReadFloat32(name);
            CheckFinite(file, name, MemoryMarshal.AsBytes(host.AsSpan()), DType.F32, 0);
            return FromHostAsWeight(host, shape);
        }
        var y = New(shape, weight: true);
        var bytes = file.Bytes(info);
        if (bytes.Length == 0) return y;
        EnsureStaging();
        int esize = DTypes.Size(info.DType);
        int chunkElems = StagingBytes / esize;
        bool convert = info.DType != StorageType;
        DeviceBuffer? raw = convert ? Scratch(2L * StagingBytes) : null;
        try
        {
            long total = info.ElementCount;
            int slot = 0;
            for (long e0 = 0; e0 < total; e0 += chunkElems, slot ^= 1)
            {
                int n = (int)Math.Min(chunkElems, total - e0);
                var src = bytes.Slice(checked((int)(e0 * esize)), n * esize);
                // The staging slot may still be feeding an earlier upload.
                _stagingFree![slot].Synchronize();
                var stage = _staging![slot];
                src.CopyTo(new Span<byte>(stage.Pointer, src.Length));
                CheckFinite(file, name, src, info.DType, e0);
                if (StorageType == DType.F16 && info.DType != DType.F16) CheckFitsHalf(file, name, src, info.DType, e0);
                ulong dst = convert ? raw!.Ptr + (ulong)(slot * (long)StagingBytes) : y.Ptr + (ulong)(e0 * esize);
                _drv.Check(_drv.cuMemcpyHtoDAsync(dst, stage.Pointer, (nuint)src.Length, _stream.Raw), "cuMemcpyHtoDAsync");
                _stagingFree[slot].Record(_stream);
                if (convert) Cast(dst, info.DType, y.Ptr + (ulong)(e0 * ElementSize), StorageType, n);
            }
        }
        finally { raw?.Release(); }
        return y;
    }

    private Tensor FromHostAsWeight(float[] host, int[] shape)
    {
        var t = (CudaTensor)FromHost(host, shape);
        // FromHost allocates as an activation; weights are counted apart, so re-home it.
        var w = New(shape, weight: true);
        _drv.Check(_drv.cuMemcpyDtoDAsync(w.Ptr, t.Ptr, (nuint)t.Bytes, _stream.Raw), "cuMemcpyDtoDAsync");
        t.Dispose();
        return w;
    }

    private void EnsureStaging()
    {
        if (_staging is not null) return;
        _staging = [new PinnedHostMemory(_device, StagingBytes), new PinnedHostMemory(_device, StagingBytes)];
        _stagingFree = [new CudaEvent(_device), new CudaEvent(_device)];
        _stagingFree[0].Record(_stream);
        _stagingFree[1].Record(_stream);
    }

    /// <summary>Throws naming the tensor and element if the chunk holds an Inf or NaN (all-ones exponent).</summary>
    private static void CheckFinite(SafeTensorsFile file, string name, ReadOnlySpan<byte> chunk, DType dtype, long firstElement)
    {
        if (dtype == DType.F32)
        {
            var v = MemoryMarshal.Cast<byte, uint>(chunk);
            int bad = FirstWithAllOnes(v, 0x7F800000u);
            if (bad >= 0) throw new ModelFormatException(file.Path, name, $"holds a non-finite value ({BitConverter.UInt32BitsToSingle(v[bad])}) at element {firstElement + bad}");
        }
        else
        {
            var v = MemoryMarshal.Cast<byte, ushort>(chunk);
            ushort mask = dtype == DType.F16 ? (ushort)0x7C00 : (ushort)0x7F80;
            int bad = FirstWithAllOnes(v, mask);
            if (bad >= 0) throw new ModelFormatException(file.Path, name, $"holds a non-finite value at element {firstElement + bad}");
        }
    }

    /// <summary>fp16 tops out at 65504: a bf16 / fp32 weight beyond it would become infinite in fp16 storage.</summary>
    private static void CheckFitsHalf(SafeTensorsFile file, string name, ReadOnlySpan<byte> chunk, DType dtype, long firstElement)
    {
        int bad = -1;
        if (dtype == DType.BF16)
        {
            // |v| >= 65536 (the next bf16 value after 65280) has magnitude bits >= 0x4780.
            var v = MemoryMarshal.Cast<byte, ushort>(chunk);
            for (int i = 0; i < v.Length && bad < 0; i++) if ((v[i] & 0x7FFF) >= 0x4780) bad = i;
        }
        else if (dtype == DType.F32)
        {
            var v = MemoryMarshal.Cast<byte, float>(chunk);
            for (int i = 0; i < v.Length && bad < 0; i++) if (MathF.Abs(v[i]) >= 65520f) bad = i;
        }
        if (bad >= 0)
            throw new ModelFormatException(file.Path, name, $"element {firstElement + bad} is outside the fp16 range (±65504); load this file at bf16 or fp32 precision");
    }

    private static int FirstWithAllOnes<T>(ReadOnlySpan<T> v, T mask) where T : unmanaged, IBinaryInteger<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && v.Length >= Vector<T>.Count)
        {
            var m = new Vector<T>(mask);
            var vs = MemoryMarshal.Cast<T, Vector<T>>(v);
            for (int k = 0; k < vs.Length; k++)
                if (Vector.EqualsAny(vs[k] & m, m)) { i = k * Vector<T>.Count; goto scalar; }
            i = vs.Length * Vector<T>.Count;
        }
    scalar:
        for (; i < v.Length; i++)
            if ((v[i] & mask) == mask) return i;
        return -1;
    }
}
