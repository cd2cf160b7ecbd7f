namespace LayerDiffusion.Native.Imaging;

public static partial class CvResize
{
    /// <summary>C's FLT_EPSILON.</summary>
    private const float FltEpsilon = 1.1920929e-7f;

    /// <summary>
    /// resizeGeneric_: per axis a table of source offsets and fp32 tap weights, then for every destination row the
    /// needed source rows are resampled horizontally and combined vertically. Linear and the area emulation use 2
    /// taps, Lanczos4 8; out-of-range taps repeat the edge pixel.
    /// </summary>
    private static FloatImage Separable(FloatImage src, int dw, int dh, CvInterpolation mode, double scaleX, double scaleY, double invScaleX, double invScaleY)
    {
        bool lanczos = mode == CvInterpolation.Lanczos4, areaMode = mode == CvInterpolation.Area;
        int ksize = lanczos ? 8 : 2, ksize2 = ksize / 2;
        int sw = src.Width, sh = src.Height, cn = src.Channels;

        var xofs = new int[dw];
        var alpha = new float[dw * ksize];
        Span<float> cbuf = stackalloc float[8];
        for (int dx = 0; dx < dw; dx++)
        {
            var (sx, fx) = SourceAndFraction(dx, scaleX, invScaleX, areaMode);
            if (!lanczos)
            {
                // Linear: pull the first and last taps inside the image (fx = 0 there).
                if (sx < 0) { fx = 0; sx = 0; }
                if (sx >= sw - 1) { fx = 0; sx = sw - 1; }
            }
            xofs[dx] = sx;
            Coefficients(fx, lanczos, cbuf);
            cbuf[..ksize].CopyTo(alpha.AsSpan(dx * ksize, ksize));
        }

        var yofs = new int[dh];
        var beta = new float[dh * ksize];
        for (int dy = 0; dy < dh; dy++)
        {
            var (sy, fy) = SourceAndFraction(dy, scaleY, invScaleY, areaMode);
            yofs[dy] = sy;
            Coefficients(fy, lanczos, cbuf);
            cbuf[..ksize].CopyTo(beta.AsSpan(dy * ksize, ksize));
        }

        var dst = new FloatImage(dw, dh, cn);
        var rows = new float[ksize][];
        for (int k = 0; k < ksize; k++) rows[k] = new float[dw * cn];
        for (int dy = 0; dy < dh; dy++)
        {
            for (int k = 0; k < ksize; k++)
            {
                int sy = Math.Clamp(yofs[dy] - ksize2 + 1 + k, 0, sh - 1);
                HorizontalRow(src, sy, rows[k], xofs, alpha, ksize, lanczos);
            }
            var d = dst.Data.AsSpan(dy * dw * cn, dw * cn);
            var b = beta.AsSpan(dy * ksize, ksize);
            if (lanczos)
            {
                for (int i = 0; i < d.Length; i++)
                {
                    float v = rows[0][i] * b[0];
                    for (int k = 1; k < 8; k++) v += rows[k][i] * b[k];
                    d[i] = v;
                }
            }
            else
            {
                for (int i = 0; i < d.Length; i++) d[i] = rows[0][i] * b[0] + rows[1][i] * b[1];
            }
        }
        return dst;
    }

    /// <summary>The first source index and the fp32 fraction for destination index <paramref name="d"/>.</summary>
    private static (int Source, float Fraction) SourceAndFraction(int d, double scale, double invScale, bool areaMode)
    {
        if (!areaMode)
        {
            float f = (float)((d + 0.5) * scale - 0.5);
            int s = (int)MathF.Floor(f);
            return (s, f - s);
        }
        int sa = (int)Math.Floor(d * scale);
        float fa = (float)((d + 1) - (sa + 1) * invScale);
        fa = fa <= 0 ? 0f : fa - MathF.Floor(fa);
        return (sa, fa);
    }

    private static void Coefficients(float f, bool lanczos, Span<float> c)
    {
        if (lanczos) Lanczos4(f, c);
        else
        {
            c[0] = 1f - f;
            c[1] = f;
        }
    }

    /// <summary>interpolateLanczos4: sinc(x)·sinc(x/4) weights at the 8 taps around x, normalised to sum 1.</summary>
    private static void Lanczos4(float x, Span<float> coeffs)
    {
        const double s45 = 0.70710678118654752440084436210485;
        ReadOnlySpan<double> cs0 = [1, -s45, 0, s45, -1, s45, 0, -s45];
        ReadOnlySpan<double> cs1 = [0, -s45, 1, -s45, 0, s45, -1, s45];
        if (x < FltEpsilon)
        {
            coeffs[..8].Clear();
            coeffs[3] = 1;
            return;
        }
        float sum = 0;
        double y0 = -(x + 3) * Math.PI * 0.25, s0 = Math.Sin(y0), c0 = Math.Cos(y0);
        for (int i = 0; i < 8; i++)
        {
            double y = -(x + 3 - i) * Math.PI * 0.25;
            coeffs[i] = (float)((cs0[i] * s0 + cs1[i] * c0) / (y * y));
            sum += coeffs[i];
        }
        sum = 1f / sum;
        for (int i = 0; i < 8; i++) coeffs[i] *= sum;
    }

    /// <summary>One source row resampled horizontally (HResizeLinear / HResizeLanczos4), taps clamped to the row.</summary>
    private static void HorizontalRow(FloatImage src, int sy, float[] dstRow, int[] xofs, float[] alpha, int ksize, bool lanczos)
    {
        int cn = src.Channels, sw = src.Width, dw = xofs.Length;
        var s = src.Data.AsSpan(sy * sw * cn, sw * cn);
        for (int dx = 0; dx < dw; dx++)
        {
            int sx = xofs[dx];
            var a = alpha.AsSpan(dx * ksize, ksize);
            for (int c = 0; c < cn; c++)
            {
                float v;
                if (lanczos)
                {
                    v = 0;
                    for (int j = 0; j < 8; j++) v += s[Math.Clamp(sx - 3 + j, 0, sw - 1) * cn + c] * a[j];
                }
                else if (sx + 1 < sw)
                    v = s[sx * cn + c] * a[0] + s[(sx + 1) * cn + c] * a[1];
                else
                    v = s[sx * cn + c];
                dstRow[dx * cn + c] = v;
            }
        }
    }
}
