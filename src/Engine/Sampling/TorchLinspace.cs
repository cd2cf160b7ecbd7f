namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// <c>torch.linspace</c> as the CPU kernel computes it: the first half counts up from start, the second half counts
/// down from end, so both endpoints are exact; float32 keeps its rounding so schedules match the reference to the bit.
/// </summary>
internal static class TorchLinspace
{
    public static float[] F32(float start, float end, int n)
    {
        var r = new float[n];
        if (n == 1) { r[0] = start; return r; }
        float step = (end - start) / (n - 1);
        int half = n / 2;
        for (int i = 0; i < n; i++) r[i] = i < half ? start + step * i : end - step * (n - 1 - i);
        return r;
    }

    public static double[] F64(double start, double end, int n)
    {
        var r = new double[n];
        if (n == 1) { r[0] = start; return r; }
        double step = (end - start) / (n - 1);
        int half = n / 2;
        for (int i = 0; i < n; i++) r[i] = i < half ? start + step * i : end - step * (n - 1 - i);
        return r;
    }
}
