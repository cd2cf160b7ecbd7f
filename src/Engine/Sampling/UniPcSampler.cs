namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// UniPC as Forge/A1111 run it (modules/models/diffusion/uni_pc/uni_pc.py, options bh1, order 3, time_uniform,
/// lower order final): multistep predictor–corrector in data prediction on the VP schedule; the corrector reuses the
/// model evaluation of the next step; the last step has no corrector.
/// </summary>
/// <remarks>
/// The model sees x_t unscaled (x_T = the unit noise) and timestep (t − 1/N)·1000 over the continuous times
/// linspace(1, 1/N, steps + 1). Fewer steps than the order lower the order to the step count (the reference asserts).
/// </remarks>
internal sealed class UniPcSampler
{
    public const int DefaultOrder = 3;

    private readonly EpsModel _model;
    private readonly NoiseScheduleVp _ns;

    public UniPcSampler(EpsModel model, NoiseScheduleVp schedule)
    {
        _model = model;
        _ns = schedule;
    }

    /// <param name="start">x at the first time: the unit noise for txt2img, the noised init latent for img2img.</param>
    /// <param name="tStart">The first continuous time: 1 (the schedule's T) for txt2img, earlier for img2img.</param>
    public float[] Sample(float[] start, int steps, StepReporter report, int order = DefaultOrder, bool lowerOrderFinal = true, float tStart = 1f)
    {
        order = Math.Min(order, steps);
        var times = TorchLinspace.F32(tStart, 1f / _ns.TotalN, steps + 1);
        var x = (float[])start.Clone();

        report.ThrowIfCancelled();
        var modelPrev = new List<float[]> { DataPrediction(x, times[0]) };
        var tPrev = new List<float> { times[0] };

        for (int initOrder = 1; initOrder < order; initOrder++)
        {
            report.ThrowIfCancelled();
            float t = times[initOrder];
            (x, var modelX) = Update(x, modelPrev, tPrev, t, initOrder, useCorrector: true);
            modelX ??= DataPrediction(x, t);
            report.Report(initOrder - 1, (float)_ns.KSigma(tPrev[^1]), modelX);
            modelPrev.Add(modelX);
            tPrev.Add(t);
        }

        for (int step = order; step <= steps; step++)
        {
            report.ThrowIfCancelled();
            float t = times[step];
            int stepOrder = lowerOrderFinal ? Math.Min(order, steps + 1 - step) : order;
            bool useCorrector = step != steps;
            (x, var modelX) = Update(x, modelPrev, tPrev, t, stepOrder, useCorrector);
            report.Report(step - 1, (float)_ns.KSigma(tPrev[^1]), modelX ?? x);
            modelPrev.RemoveAt(0);
            tPrev.RemoveAt(0);
            tPrev.Add(t);
            // The final step's model value is never used, so it is not evaluated.
            modelPrev.Add(step < steps ? modelX ?? DataPrediction(x, t) : x);
        }
        return x;
    }

    /// <summary>
    /// img2img as A1111/Forge's timesteps samplers run it (sd_samplers_timesteps.py sample_img2img and the unipc
    /// wrapper): integer timesteps ts = clip(range(0, 1000, 1000 // steps) + 1, 0, 999); x = init·√ᾱ[ts[t_enc]] +
    /// noise·√(1 − ᾱ[ts[t_enc]]); then t_enc UniPC steps from t_start = ts[t_enc − 1] / 1000 + 1/1000 (float32, as
    /// torch computes it) down to 1/N.
    /// </summary>
    public float[] SampleImg2Img(float[] init, float[] noise, int steps, int tEnc, StepReporter report)
    {
        var ts = Img2ImgTimesteps(steps);
        if (tEnc < 1 || tEnc >= ts.Length)
            throw new ArgumentOutOfRangeException(nameof(tEnc), $"UniPC img2img needs 1 ≤ t_enc < {ts.Length} (got {tEnc})");
        float alphaBar = _ns.AlphasCumprod[ts[tEnc]];
        float a = MathF.Sqrt(alphaBar), b = MathF.Sqrt(1f - alphaBar);
        var x = new float[init.Length];
        for (int i = 0; i < x.Length; i++) x[i] = init[i] * a + noise[i] * b;
        float tStart = ts[tEnc - 1] / 1000f + 0.001f;
        return Sample(x, tEnc, report, tStart: tStart);
    }

    /// <summary>A1111's timesteps for a timesteps sampler: clip(range(0, 1000, 1000 // steps) + 1, 0, 999).</summary>
    internal static int[] Img2ImgTimesteps(int steps)
    {
        if (steps < 1 || steps > 1000) throw new ArgumentOutOfRangeException(nameof(steps), $"{steps} is outside [1, 1000]");
        int stride = 1000 / steps;
        var ts = new List<int>();
        for (int v = 0; v < 1000; v += stride) ts.Add(Math.Min(v + 1, 999));
        return ts.ToArray();
    }

    /// <summary>x0 = (x − σ_t·ε)/α_t with ε the guided model output at time t.</summary>
    private float[] DataPrediction(float[] x, float t)
    {
        var eps = _model(x, _ns.ModelTimestep(t), (float)_ns.KSigma(t));
        if (eps.Length != x.Length) throw new InvalidOperationException($"model returned {eps.Length} values for {x.Length}");
        float alpha = (float)_ns.Alpha(t), std = (float)_ns.Std(t);
        var x0 = new float[x.Length];
        for (int i = 0; i < x.Length; i++) x0[i] = (x[i] - std * eps[i]) / alpha;
        return x0;
    }

    /// <summary><c>multistep_uni_pc_bh_update</c> with predict_x0 and variant bh1.</summary>
    private (float[] X, float[]? ModelT) Update(float[] x, List<float[]> modelPrev, List<float> tPrev, float t, int order, bool useCorrector)
    {
        float tPrev0 = tPrev[^1];
        double lambdaPrev0 = _ns.Lambda(tPrev0), lambdaT = _ns.Lambda(t);
        var model0 = modelPrev[^1];
        double sigmaPrev0 = _ns.Std(tPrev0), sigmaT = _ns.Std(t);
        double alphaT = _ns.Alpha(t);
        double h = lambdaT - lambdaPrev0;

        // Scaled differences of the earlier predictions, D1_k = (m_k − m_0)/r_k.
        var rks = new double[order];
        var d1s = new float[order - 1][];
        for (int i = 1; i < order; i++)
        {
            double rk = (_ns.Lambda(tPrev[^(i + 1)]) - lambdaPrev0) / h;
            rks[i - 1] = rk;
            var mi = modelPrev[^(i + 1)];
            var d = new float[x.Length];
            float inv = (float)(1 / rk);
            for (int j = 0; j < d.Length; j++) d[j] = (mi[j] - model0[j]) * inv;
            d1s[i - 1] = d;
        }
        rks[order - 1] = 1.0;

        double hh = -h; // data prediction
        double hPhi1 = KDiffusionSamplers.ExpM1(hh);
        double hPhiK = hPhi1 / hh - 1;
        double bH = hh; // bh1
        var r = new double[order, order];
        var b = new double[order];
        double factorial = 1;
        for (int i = 1; i <= order; i++)
        {
            for (int k = 0; k < order; k++) r[i - 1, k] = Math.Pow(rks[k], i - 1);
            b[i - 1] = hPhiK * factorial / bH;
            factorial *= i + 1;
            hPhiK = hPhiK / hh - 1 / factorial;
        }

        double[]? rhosP = null;
        if (d1s.Length > 0) rhosP = order == 2 ? [0.5] : Solve(r, b, order - 1);
        double[]? rhosC = useCorrector ? (order == 1 ? [0.5] : Solve(r, b, order)) : null;

        float ratio = (float)(sigmaT / sigmaPrev0);
        float c0 = (float)(alphaT * hPhi1);
        float cb = (float)(alphaT * bH);
        var xBase = new float[x.Length];
        for (int j = 0; j < x.Length; j++) xBase[j] = ratio * x[j] - c0 * model0[j];

        var xt = new float[x.Length];
        for (int j = 0; j < x.Length; j++)
        {
            float pred = 0;
            if (rhosP is not null)
                for (int k = 0; k < d1s.Length; k++) pred += (float)rhosP[k] * d1s[k][j];
            xt[j] = xBase[j] - cb * pred;
        }
        if (rhosC is null) return (xt, null);

        var modelT = DataPrediction(xt, t);
        var corrected = new float[x.Length];
        float rhoLast = (float)rhosC[order - 1];
        for (int j = 0; j < x.Length; j++)
        {
            float corr = 0;
            for (int k = 0; k < d1s.Length; k++) corr += (float)rhosC[k] * d1s[k][j];
            corrected[j] = xBase[j] - cb * (corr + rhoLast * (modelT[j] - model0[j]));
        }
        return (corrected, modelT);
    }

    /// <summary>Solves the leading n×n block of a·x = b (Gaussian elimination with partial pivoting).</summary>
    private static double[] Solve(double[,] a, double[] b, int n)
    {
        var m = new double[n, n + 1];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) m[i, j] = a[i, j];
            m[i, n] = b[i];
        }
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int row = col + 1; row < n; row++) if (Math.Abs(m[row, col]) > Math.Abs(m[pivot, col])) pivot = row;
            if (m[pivot, col] == 0) throw new InvalidOperationException("UniPC: singular system (repeated timesteps?)");
            if (pivot != col)
                for (int j = 0; j <= n; j++) (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            for (int row = col + 1; row < n; row++)
            {
                double f = m[row, col] / m[col, col];
                for (int j = col; j <= n; j++) m[row, j] -= f * m[col, j];
            }
        }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = m[i, n];
            for (int j = i + 1; j < n; j++) s -= m[i, j] * x[j];
            x[i] = s / m[i, i];
        }
        return x;
    }
}
