namespace LayerDiffusion.Native.Tests;

/// <summary>Reference loops written straight from the definitions (double accumulation), for backend op tests.</summary>
public static class NaiveOps
{
    /// <summary>Uniform values in [-scale, scale), deterministic per seed.</summary>
    public static float[] Rand(int n, int seed, float scale = 1f)
    {
        var r = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * scale).ToArray();
    }

    /// <summary>NCHW convolution with bias, square stride and symmetric zero padding, accumulated in double.</summary>
    public static double[] Conv2d(float[] x, float[] wt, float[] b, int n, int ci, int h, int w, int co, int k, int stride, int pad)
    {
        int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
        var y = new double[n * co * ho * wo];
        for (int bi = 0; bi < n; bi++)
            for (int o = 0; o < co; o++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++)
                    {
                        double s = b[o];
                        for (int c = 0; c < ci; c++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                    if ((uint)iy < (uint)h && (uint)ix < (uint)w)
                                        s += (double)x[((bi * ci + c) * h + iy) * w + ix] * wt[((o * ci + c) * k + ky) * k + kx];
                                }
                        y[((bi * co + o) * ho + oy) * wo + ox] = s;
                    }
        return y;
    }
}
