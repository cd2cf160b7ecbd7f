using LayerDiffusion.Native.Backends.Cpu;
using Xunit;

namespace LayerDiffusion.Native.Tests.Unet;

/// <summary>The table-based erf that GELU uses (the UNet's GEGLU) agrees with the reference series everywhere.</summary>
public sealed class ErfTests
{
    [Fact]
    public void FastErfMatchesTheSeries()
    {
        double worst = 0;
        for (double x = -7; x <= 7; x += 0.000731)
            worst = Math.Max(worst, Math.Abs(Erf.Fast(x) - Erf.Of(x)));
        Assert.True(worst < 1e-13, $"max |Fast − Of| = {worst}");
        Assert.Equal(0.0, Erf.Fast(0));
        Assert.Equal(1.0, Erf.Fast(9));
        Assert.Equal(-1.0, Erf.Fast(double.NegativeInfinity));
        Assert.True(double.IsNaN(Erf.Fast(double.NaN)));
        // Python math.erf reference values.
        Assert.Equal(0.8427007929497149, Erf.Fast(1.0), 14);
        Assert.Equal(-0.9661051464753108, Erf.Fast(-1.5), 14);
        Assert.Equal(0.9999779095030014, Erf.Fast(3.0), 14);
    }
}
