using LayerDiffusion.Native.Verify;
using Xunit;

namespace LayerDiffusion.Native.Tests.Golden;

/// <summary>fp16/bf16 verify bounds: sampler latents get the sampling bound, host-computed schedules and noise keep the manifest's.</summary>
public sealed class ReducedPrecisionBoundsTests
{
    private static OutputSpec Spec(string name) => new(name, [1, 4, 16, 16], "float32", new Tolerance(1e-4, 1e-6));

    [Theory]
    [InlineData("samplers_more", "lcm_out")]
    [InlineData("samplers_more", "dpm_2_denoised_step0")]
    [InlineData("brownian_tree", "dpmpp_2m_sde_brownian_out")]
    public void SamplerLatentsGetTheSamplingBound(string caseName, string output) =>
        Assert.Equal(2e-2, PrecisionMode.ReducedBound(caseName, Spec(output))!.RelL2);

    [Theory]
    [InlineData("samplers_more", "sigmas_beta")]
    [InlineData("samplers_more", "dpm_2_a_sigmas")]
    [InlineData("samplers_more", "dpmpp_sde_noise_pairs")]
    [InlineData("brownian_tree", "brownian_noises")]
    [InlineData("samplers", "sigmas_karras")]
    public void HostSchedulesAndNoiseKeepTheManifestTolerance(string caseName, string output) =>
        Assert.Null(PrecisionMode.ReducedBound(caseName, Spec(output)));
}
