namespace LayerDiffusion.Native.Imaging;

/// <summary>
/// The condition images of the two-step layer workflows (fg2ble, bg2ble, fgble2bg, bgble2fg), prepared as
/// sd-forge-layerdiffuse does before VAE-encoding them: RGBA composited onto 50% grey in fp32, then fitted to the
/// generation size with the chosen resize mode (its crop_and_resize_image / high_quality_resize).
/// </summary>
public static class ConditionImage
{
    /// <summary>Composite, then resize: RGBA bytes [h, w, 4] → RGB floats [height, width, 3], about [0, 1].</summary>
    public static FloatImage Prepare(ReadOnlySpan<byte> rgba, int w, int h, int width, int height, ResizeMode mode = ResizeMode.CropAndResize) =>
        Fit(CompositeOnGrey(rgba, w, h), width, height, mode);

    /// <summary>rgba2rgbfp32: rgb' = 0.5 + (rgb − 0.5) · α with rgb, α = bytes / 255, in fp32.</summary>
    public static FloatImage CompositeOnGrey(ReadOnlySpan<byte> rgba, int w, int h)
    {
        if (w <= 0 || h <= 0 || rgba.Length != (long)w * h * 4) throw new ArgumentException($"{rgba.Length} bytes for a {w}x{h} RGBA image");
        var img = new FloatImage(w, h, 3);
        for (int i = 0; i < w * h; i++)
        {
            float a = rgba[i * 4 + 3] / 255f;
            for (int c = 0; c < 3; c++) img.Data[i * 3 + c] = 0.5f + (rgba[i * 4 + c] / 255f - 0.5f) * a;
        }
        return img;
    }

    /// <summary>
    /// crop_and_resize_image. Just Resize stretches. Otherwise k = max (crop) or min (fill) of height/h and width/w,
    /// the image is resized to round(w·k) × round(h·k) (numpy rounding, half to even), then centre-cropped, or
    /// centred over a canvas of the per-channel median of its border pixels (offsets floor((target − size) / 2)).
    /// </summary>
    public static FloatImage Fit(FloatImage img, int width, int height, ResizeMode mode)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"bad target size {width}x{height}");
        if (mode == ResizeMode.JustResize) return HighQualityResize(img, width, height);

        double k0 = (double)height / img.Height, k1 = (double)width / img.Width;
        if (mode == ResizeMode.ResizeAndFill)
        {
            double k = Math.Min(k0, k1);
            var border = BorderMedian(img);
            var resized = HighQualityResize(img, RoundHalfEven(img.Width * k), RoundHalfEven(img.Height * k));
            var canvas = new FloatImage(width, height, img.Channels);
            for (int i = 0; i < width * height; i++) border.CopyTo(canvas.Data.AsSpan(i * img.Channels, img.Channels));
            int padH = Math.Max(0, (height - resized.Height) / 2), padW = Math.Max(0, (width - resized.Width) / 2);
            int rows = Math.Min(resized.Height, height - padH), cols = Math.Min(resized.Width, width - padW);
            for (int y = 0; y < rows; y++)
                resized.Data.AsSpan(y * resized.Width * img.Channels, cols * img.Channels)
                    .CopyTo(canvas.Data.AsSpan(((y + padH) * width + padW) * img.Channels));
            return canvas;
        }
        else
        {
            double k = Math.Max(k0, k1);
            var resized = HighQualityResize(img, RoundHalfEven(img.Width * k), RoundHalfEven(img.Height * k));
            int padH = Math.Max(0, (resized.Height - height) / 2), padW = Math.Max(0, (resized.Width - width) / 2);
            int rows = Math.Min(height, resized.Height - padH), cols = Math.Min(width, resized.Width - padW);
            if (rows != height || cols != width)
                throw new InvalidOperationException($"crop of {resized.Width}x{resized.Height} cannot cover {width}x{height}");
            var crop = new FloatImage(width, height, img.Channels);
            for (int y = 0; y < height; y++)
                resized.Data.AsSpan(((y + padH) * resized.Width + padW) * img.Channels, width * img.Channels)
                    .CopyTo(crop.Data.AsSpan(y * width * img.Channels));
            return crop;
        }
    }

    /// <summary>
    /// high_quality_resize: OpenCV INTER_AREA when the pixel count shrinks, INTER_LANCZOS4 otherwise (the choice
    /// is by area, so one axis may grow under INTER_AREA); the same size is returned unchanged.
    /// </summary>
    public static FloatImage HighQualityResize(FloatImage img, int width, int height)
    {
        if (img.Width == width && img.Height == height) return img.Clone();
        bool smaller = (long)width * height < (long)img.Width * img.Height;
        return CvResize.Resize(img, width, height, smaller ? CvInterpolation.Area : CvInterpolation.Lanczos4);
    }

    /// <summary>
    /// np.median over the top row, bottom row, left column and right column together (corners counted twice), per
    /// channel; an even count averages the two middle values in fp32.
    /// </summary>
    internal static float[] BorderMedian(FloatImage img)
    {
        int w = img.Width, h = img.Height, cn = img.Channels;
        var result = new float[cn];
        var values = new float[2 * w + 2 * h];
        for (int c = 0; c < cn; c++)
        {
            int n = 0;
            for (int x = 0; x < w; x++) values[n++] = img[0, x, c];
            for (int x = 0; x < w; x++) values[n++] = img[h - 1, x, c];
            for (int y = 0; y < h; y++) values[n++] = img[y, 0, c];
            for (int y = 0; y < h; y++) values[n++] = img[y, w - 1, c];
            Array.Sort(values);
            int mid = n / 2;
            result[c] = n % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2f;
        }
        return result;
    }

    /// <summary>The VAE encoder's input: planar [3, H, W] of 2x − 1.</summary>
    public static float[] ToVaeInput(FloatImage rgb)
    {
        if (rgb.Channels != 3) throw new ArgumentException($"VAE input needs 3 channels, got {rgb.Channels}");
        var chw = rgb.ToPlanar();
        for (int i = 0; i < chw.Length; i++) chw[i] = 2f * chw[i] - 1f;
        return chw;
    }

    private static int RoundHalfEven(double v) => (int)Math.Round(v, MidpointRounding.ToEven);
}
