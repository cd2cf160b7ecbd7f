namespace LayerDiffusion.Native.Models;

/// <summary>
/// The sgm/ldm sinusoidal embedding: for a value v and width d, [cos(v·f_i), sin(v·f_i)] with
/// f_i = exp(-ln(10000)·i/(d/2)), cosine half first. Used for UNet timesteps and SDXL size conditioning.
/// </summary>
public static class SinusoidalEmbedding
{
    public static void Write(double value, Span<float> dst)
    {
        int half = dst.Length / 2;
        for (int i = 0; i < half; i++)
        {
            // fp32 frequencies and fp32 product, as torch computes them, then cos/sin of that fp32 argument.
            float freq = MathF.Exp(-MathF.Log(10000f) * i / half);
            float arg = (float)value * freq;
            dst[i] = (float)Math.Cos(arg);
            dst[half + i] = (float)Math.Sin(arg);
        }
    }

    public static float[] Of(ReadOnlySpan<float> values, int width)
    {
        var result = new float[values.Length * width];
        for (int i = 0; i < values.Length; i++) Write(values[i], result.AsSpan(i * width, width));
        return result;
    }
}
