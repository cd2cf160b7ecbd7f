namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// k-diffusion's <c>sample_lms</c> (order 4): x ← x + Σ_j c_j·d_{i−j}, where c_j integrates the Lagrange basis
/// polynomial of the last (up to) four sigmas over [σ_i, σ_{i+1}].
/// </summary>
internal static class LinearMultistep
{
    public const int DefaultOrder = 4;

    public static float[] Sample(Denoiser model, float[] x, float[] sigmas, StepReporter report, int order = DefaultOrder)
    {
        x = (float[])x.Clone();
        var ds = new List<float[]>();
        var sum = new float[x.Length];
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i];
            var denoised = model.Denoise(x, sigma);
            var d = new float[x.Length];
            for (int j = 0; j < x.Length; j++) d[j] = (x[j] - denoised[j]) / sigma;
            ds.Add(d);
            if (ds.Count > order) ds.RemoveAt(0);
            report.Report(i, sigma, denoised);
            int current = Math.Min(i + 1, order);
            // Python's sum(coeff * d for coeff, d in zip(coeffs, reversed(ds))), then x + that sum.
            for (int k = 0; k < current; k++)
            {
                float c = (float)Coefficient(current, sigmas, i, k);
                var dk = ds[ds.Count - 1 - k];
                if (k == 0) for (int j = 0; j < x.Length; j++) sum[j] = c * dk[j];
                else for (int j = 0; j < x.Length; j++) sum[j] += c * dk[j];
            }
            for (int j = 0; j < x.Length; j++) x[j] += sum[j];
        }
        return x;
    }

    // Gauss–Legendre nodes and weights on [−1, 1], exact for polynomials up to degree 5 (the basis has degree order − 1 ≤ 3).
    private static readonly double[] Nodes = [-Math.Sqrt(0.6), 0, Math.Sqrt(0.6)];
    private static readonly double[] Weights = [5.0 / 9, 8.0 / 9, 5.0 / 9];

    /// <summary>
    /// <c>linear_multistep_coeff(order, t, i, j)</c>: ∫_{t_i}^{t_{i+1}} Π_{k≠j} (τ − t_{i−k}) / (t_{i−j} − t_{i−k}) dτ
    /// (k-diffusion integrates it with scipy's quad, exact for these polynomials).
    /// </summary>
    internal static double Coefficient(int order, float[] t, int i, int j)
    {
        if (order - 1 > i) throw new ArgumentOutOfRangeException(nameof(order), $"order {order} too high for step {i}");
        double a = t[i], b = t[i + 1];
        double half = 0.5 * (b - a), centre = 0.5 * (a + b), integral = 0;
        for (int q = 0; q < Nodes.Length; q++)
        {
            double tau = centre + half * Nodes[q], prod = 1;
            for (int k = 0; k < order; k++)
            {
                if (k == j) continue;
                prod *= (tau - t[i - k]) / ((double)t[i - j] - t[i - k]);
            }
            integral += Weights[q] * prod;
        }
        return integral * half;
    }
}
