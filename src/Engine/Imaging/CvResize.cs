namespace LayerDiffusion.Native.Imaging;

public enum CvInterpolation { Linear, Area, Lanczos4 }

/// <summary>
/// A port of OpenCV's cv::resize for float images (imgproc/src/resize.cpp), operation for operation in fp32, so the
/// references' pyramids and condition images can be reproduced:
/// - INTER_AREA with both scales ≥ 1 (shrinking): fractional box coverage (computeResizeAreaTab + ResizeArea), or
///   plain block averages when both scales are integers (resizeAreaFast);
/// - INTER_LINEAR: half-pixel centres, edge clamping (and INTER_AREA for an exact 2× shrink, as OpenCV switches);
/// - INTER_AREA when enlarging along either axis: OpenCV's bilinear emulation with area-style coefficients;
/// - INTER_LANCZOS4: 8 taps, replicated edges.
/// Equal sizes return a copy, as cv::resize does.
/// </summary>
public static partial class CvResize
{
    /// <summary>C's DBL_EPSILON (not .NET's double.Epsilon, the smallest denormal).</summary>
    private const double DblEpsilon = 2.220446049250313e-16;

    public static FloatImage Resize(FloatImage src, int dstWidth, int dstHeight, CvInterpolation interpolation)
    {
        if (dstWidth <= 0 || dstHeight <= 0) throw new ArgumentException($"bad target size {dstWidth}x{dstHeight}");
        if (dstWidth == src.Width && dstHeight == src.Height) return src.Clone();
        double invScaleX = (double)dstWidth / src.Width, invScaleY = (double)dstHeight / src.Height;
        double scaleX = 1.0 / invScaleX, scaleY = 1.0 / invScaleY;
        int iscaleX = SaturateInt(scaleX), iscaleY = SaturateInt(scaleY);
        bool areaFast = Math.Abs(scaleX - iscaleX) < DblEpsilon && Math.Abs(scaleY - iscaleY) < DblEpsilon;
        if (interpolation == CvInterpolation.Linear && areaFast && iscaleX == 2 && iscaleY == 2)
            interpolation = CvInterpolation.Area;
        if (interpolation == CvInterpolation.Area && scaleX >= 1 && scaleY >= 1)
            return areaFast ? AreaFast(src, dstWidth, dstHeight, iscaleX, iscaleY) : Area(src, dstWidth, dstHeight, scaleX, scaleY);
        return Separable(src, dstWidth, dstHeight, interpolation, scaleX, scaleY, invScaleX, invScaleY);
    }

    /// <summary>saturate_cast&lt;int&gt;(double): round half to even, as cvRound does.</summary>
    private static int SaturateInt(double v) => (int)Math.Clamp(Math.Round(v, MidpointRounding.ToEven), int.MinValue, int.MaxValue);
}
