namespace LayerDiffusion.Native.Models.Vae;

/// <summary>
/// VAE decoding in overlapping latent tiles, for images whose full-size decoder activations do not fit in device
/// memory. Each tile (plus an overlap margin on every inner side) is decoded alone and the pixels are blended on the
/// host with linear ramps across the overlaps, so only one tile's activations live on the device at a time. The
/// result is an approximation: the decoder's mid-block attention and GroupNorm statistics see one tile instead of
/// the whole image (the usual trade-off of tiled VAE decoders); with a tile as large as the latent it is exact.
/// </summary>
public static class TiledVaeDecode
{
    /// <summary>Decodes z [1, C, h, w] (unscaled) into pixels [3, 8h, 8w] on the host.</summary>
    /// <param name="cancel">Checked before each tile: a long decode stops within one tile.</param>
    public static float[] Decode(SdxlVae vae, IBackend b, float[] z, int channels, int h, int w, int tile, int overlap, CancellationToken cancel = default)
    {
        if (tile < 8) throw new InvalidSettingException("VaeTile", $"{tile} is too small (at least 8 latent pixels, 64 image pixels)");
        overlap = Math.Clamp(overlap, 0, tile / 4);
        int H = 8 * h, W = 8 * w;
        var sum = new float[3 * H * W];
        var weight = new float[H * W];
        int step = tile - overlap;
        for (int y0 = 0; y0 < h; y0 += step)
        {
            int th = Math.Min(tile, h - y0);
            for (int x0 = 0; x0 < w; x0 += step)
            {
                int tw = Math.Min(tile, w - x0);
                cancel.ThrowIfCancellationRequested();
                var part = new float[channels * th * tw];
                for (int c = 0; c < channels; c++)
                    for (int y = 0; y < th; y++)
                        Array.Copy(z, (c * h + y0 + y) * w + x0, part, (c * th + y) * tw, tw);
                using var zt = b.FromHost(part, 1, channels, th, tw);
                using var pt = vae.Decode(zt);
                var pixels = b.ToHost(pt);
                Accumulate(sum, weight, pixels, H, W, 8 * y0, 8 * x0, 8 * th, 8 * tw, 8 * overlap,
                    top: y0 > 0, left: x0 > 0, bottom: y0 + th < h, right: x0 + tw < w);
                if (x0 + tw >= w) break;
            }
            if (y0 + th >= h) break;
        }
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < H * W; i++) sum[c * H * W + i] /= weight[i];
        return sum;
    }

    /// <summary>Adds a decoded tile with weights that ramp linearly from 0 to 1 across each overlapped edge.</summary>
    private static void Accumulate(float[] sum, float[] weight, float[] tile, int H, int W, int py, int px, int th, int tw, int ramp,
        bool top, bool left, bool bottom, bool right)
    {
        for (int y = 0; y < th; y++)
        {
            float wy = Ramp(y, th, ramp, top, bottom);
            for (int x = 0; x < tw; x++)
            {
                float wgt = wy * Ramp(x, tw, ramp, left, right);
                int o = (py + y) * W + px + x;
                weight[o] += wgt;
                for (int c = 0; c < 3; c++) sum[c * H * W + o] += wgt * tile[(c * th + y) * tw + x];
            }
        }
    }

    /// <summary>Weight of position i in a tile of n: (i + 0.5) / ramp near an overlapped start or end, else 1.</summary>
    private static float Ramp(int i, int n, int ramp, bool start, bool end) =>
        Math.Min(start && i < ramp ? (i + 0.5f) / ramp : 1f, end && i >= n - ramp ? (n - i - 0.5f) / ramp : 1f);

    /// <summary>
    /// Whether to tile: when the backend reports device memory and the untiled decoder's largest activations
    /// (about 12 full-resolution maps of the first block's width, in fp32) would not fit in what is free.
    /// </summary>
    public static bool ShouldTile(IBackend b, int firstBlockChannels, int H, int W) =>
        Pipelines.Memory.AvailableMemory.DeviceBytes(b) is { } device && 12L * firstBlockChannels * H * W * sizeof(float) > device.Free;
}
