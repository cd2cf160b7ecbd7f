namespace LayerDiffusion.Native.Imaging;

public static partial class CvResize
{
    /// <summary>One source-to-destination contribution: dst index, src index, weight (OpenCV's DecimateAlpha).</summary>
    private readonly record struct AreaTap(int Dst, int Src, float Alpha);

    /// <summary>
    /// computeResizeAreaTab: destination cell dx covers source [dx·scale, (dx+1)·scale); each source pixel
    /// contributes the fraction of it inside the cell, divided by the cell width (clipped at the image end).
    /// </summary>
    private static AreaTap[] AreaTable(int srcSize, int dstSize, double scale)
    {
        var tab = new List<AreaTap>(srcSize * 2);
        for (int dx = 0; dx < dstSize; dx++)
        {
            double fsx1 = dx * scale, fsx2 = fsx1 + scale;
            double cellWidth = Math.Min(scale, srcSize - fsx1);
            int sx1 = (int)Math.Ceiling(fsx1), sx2 = (int)Math.Floor(fsx2);
            sx2 = Math.Min(sx2, srcSize - 1);
            sx1 = Math.Min(sx1, sx2);
            if (sx1 - fsx1 > 1e-3)
                tab.Add(new AreaTap(dx, sx1 - 1, (float)((sx1 - fsx1) / cellWidth)));
            for (int sx = sx1; sx < sx2; sx++)
                tab.Add(new AreaTap(dx, sx, (float)(1.0 / cellWidth)));
            if (fsx2 - sx2 > 1e-3)
                tab.Add(new AreaTap(dx, sx2, (float)(Math.Min(Math.Min(fsx2 - sx2, 1.0), cellWidth) / cellWidth)));
        }
        return tab.ToArray();
    }

    /// <summary>
    /// ResizeArea_Invoker&lt;float, float&gt;: for every (row tap) of a destination row, the horizontally weighted
    /// source row is accumulated with the row weight, all in fp32 and in OpenCV's order.
    /// </summary>
    private static FloatImage Area(FloatImage src, int dw, int dh, double scaleX, double scaleY)
    {
        int cn = src.Channels, sw = src.Width, width = dw * cn;
        var xtab = AreaTable(sw, dw, scaleX);
        var ytab = AreaTable(src.Height, dh, scaleY);
        var dst = new FloatImage(dw, dh, cn);
        var s = src.Data;
        var d = dst.Data;
        var buf = new float[width];
        var sum = new float[width];
        int prevDy = ytab[0].Dst;
        foreach (var yt in ytab)
        {
            float beta = yt.Alpha;
            int rowOff = yt.Src * sw * cn;
            Array.Clear(buf);
            foreach (var xt in xtab)
            {
                int dxn = xt.Dst * cn, sxn = rowOff + xt.Src * cn;
                for (int c = 0; c < cn; c++) buf[dxn + c] += s[sxn + c] * xt.Alpha;
            }
            if (yt.Dst != prevDy)
            {
                int o = prevDy * width;
                for (int i = 0; i < width; i++)
                {
                    d[o + i] = sum[i];
                    sum[i] = beta * buf[i];
                }
                prevDy = yt.Dst;
            }
            else
            {
                for (int i = 0; i < width; i++) sum[i] += beta * buf[i];
            }
        }
        int last = prevDy * width;
        for (int i = 0; i < width; i++) d[last + i] = sum[i];
        return dst;
    }

    /// <summary>resizeAreaFast for integer scales: the plain mean of each scaleX × scaleY block (sum, then · 1/area).</summary>
    private static FloatImage AreaFast(FloatImage src, int dw, int dh, int scaleX, int scaleY)
    {
        int cn = src.Channels, sw = src.Width;
        var dst = new FloatImage(dw, dh, cn);
        float scale = 1f / (scaleX * scaleY);
        var s = src.Data;
        for (int dy = 0; dy < dh; dy++)
            for (int dx = 0; dx < dw; dx++)
                for (int c = 0; c < cn; c++)
                {
                    float acc = 0f;
                    for (int sy = 0; sy < scaleY; sy++)
                    {
                        int row = (dy * scaleY + sy) * sw;
                        for (int sx = 0; sx < scaleX; sx++) acc += s[(row + dx * scaleX + sx) * cn + c];
                    }
                    dst.Data[(dy * dw + dx) * cn + c] = acc * scale;
                }
        return dst;
    }
}
