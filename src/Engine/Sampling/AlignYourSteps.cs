namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// NVIDIA's "Align Your Steps" schedule as Forge computes it (modules/sd_schedulers.py get_align_your_steps_sigmas):
/// the published 11-sigma SDXL table for 11 steps; for any other n, ln σ of the reversed table interpolated linearly
/// (np.interp) at linspace(0, 1, n) over linspace(0, 1, 11), in float64, stored as float32.
/// </summary>
public static class AlignYourSteps
{
    /// <summary>The SDXL table (research.nvidia.com/labs/toronto-ai/AlignYourSteps/howto.html).</summary>
    public static IReadOnlyList<double> SdxlSigmas { get; } = [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029];

    public static float[] Sdxl(int steps) => Interpolated(SdxlSigmas, steps);

    internal static float[] Interpolated(IReadOnlyList<double> table, int steps)
    {
        if (steps < 1) throw new InvalidOptionException("steps", $"must be at least 1 (got {steps})");
        var sigmas = new float[steps + 1];
        if (steps == table.Count)
        {
            for (int i = 0; i < steps; i++) sigmas[i] = (float)table[i];
            return sigmas;
        }
        int m = table.Count;
        var xs = SigmaSchedules.NumpyLinspace(0, 1, m);
        var ys = new double[m];
        for (int i = 0; i < m; i++) ys[i] = Math.Log(table[m - 1 - i]);
        var newXs = SigmaSchedules.NumpyLinspace(0, 1, steps);
        for (int i = 0; i < steps; i++) sigmas[steps - 1 - i] = (float)Math.Exp(NumpyInterp(newXs[i], xs, ys));
        return sigmas;
    }

    /// <summary><c>numpy.interp</c> inside [xp[0], xp[^1]]: slope·(x − xp[j]) + fp[j] on the segment holding x.</summary>
    private static double NumpyInterp(double x, double[] xp, double[] fp)
    {
        if (x <= xp[0]) return fp[0];
        if (x >= xp[^1]) return fp[^1];
        int j = Array.BinarySearch(xp, x);
        if (j >= 0) return fp[j];
        j = ~j - 1;
        double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
        return slope * (x - xp[j]) + fp[j];
    }
}
