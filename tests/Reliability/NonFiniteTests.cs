using LayerDiffusion.Native.Cli;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Tests.CliFlows;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// NaN and Inf never become an image: stored in a patch file or a latent they are refused on load, naming the tensor;
/// produced by a network during a run they stop it, naming the network and the step, and nothing is written.
/// </summary>
public sealed class NonFiniteTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheScanFindsTheFirstNonFiniteValueAtEveryPosition()
    {
        foreach (int n in new[] { 1, 7, 8, 9, 31, 64, 1000 })
        {
            var v = Enumerable.Range(0, n).Select(i => i % 3 == 0 ? float.MaxValue : -float.Epsilon * i).ToArray();
            Assert.Equal(-1, FiniteValues.FirstNonFinite(v));
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                for (int at = 0; at < n; at += Math.Max(1, n / 9))
                {
                    var w = (float[])v.Clone();
                    w[at] = bad;
                    if (at + 1 < n) w[n - 1] = float.NaN;
                    Assert.Equal(at, FiniteValues.FirstNonFinite(w));
                }
        }
    }

    /// <summary>A copy of a golden file with tensor <paramref name="name"/> as fp32 of its shape, filled with <paramref name="value"/> (one element only if <paramref name="once"/>).</summary>
    private string WithTensor(string golden, string name, float value, bool once)
    {
        using var src = SafeTensorsFile.Open(TestPaths.Golden(golden));
        Assert.True(src.Contains(name), name);
        var w = new SafeTensorsWriter();
        foreach (var n in src.Names)
        {
            var info = src.Info(n);
            if (n != name) { w.Add(n, info.DType, info.Shape, src.Bytes(info)); continue; }
            var data = src.ReadFloat32(n);
            if (once) data[data.Length / 2] = value;
            else Array.Fill(data, value);
            w.Add(n, info.Shape, data);
        }
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N")[..8] + "-" + golden);
        w.Write(path);
        return path;
    }

    private (int Code, string Stderr) Generate(string patch, string model, string decoder, string method = "attn")
    {
        var (code, _, stderr) = CliRunner.Run(["generate", "--method", method, "--model", model, "--tokenizer", CliFiles.Vocab, "--layer-model", patch,
            "--transparent-decoder", decoder, "--out", Path.Combine(_dir, "o.png"), .. CliFiles.Small, "--device", "cpu"]);
        Assert.False(File.Exists(Path.Combine(_dir, "o.png")), "an image was written");
        return (code, stderr);
    }

    private static readonly string Model = TestPaths.Golden("tiny_sdxl.safetensors"), Decoder = TestPaths.Golden("tiny_transparent_decoder.safetensors");

    [Theory]
    [InlineData("patch_attn_lora.safetensors", "diffusion_model.input_blocks.4.1.transformer_blocks.0.attn1.to_k.weight::lora::0", float.NaN, "attn")]
    [InlineData("patch_attn_lora.safetensors", "diffusion_model.input_blocks.4.1.transformer_blocks.0.attn1.to_k.weight::lora::1", float.NegativeInfinity, "attn")]
    [InlineData("patch_conv_diff.safetensors", "diffusion_model.input_blocks.1.0.in_layers.2.bias::diff::0", float.PositiveInfinity, "conv")]
    public void APatchFileHoldingNaNOrInfIsRefusedNamingTheTensor(string golden, string tensor, float value, string method)
    {
        string patch = WithTensor(golden, tensor, value, once: true);
        var (code, stderr) = Generate(patch, Model, Decoder, method);
        Assert.True(code == ExitCodes.ModelFile, stderr);
        Assert.Contains(patch, stderr);
        Assert.Contains($"tensor '{tensor}': holds a non-finite value", stderr);
    }

    [Fact]
    public void ADecodeLatentHoldingNaNIsRefused()
    {
        string latent = Path.Combine(_dir, "latent.safetensors");
        var values = new float[256];
        values[77] = float.NaN;
        new SafeTensorsWriter().Add("latent", [1, 4, 8, 8], values).Write(latent);
        string rgb = CliFiles.WritePng(_dir, "rgb.png", 3);
        var (code, _, stderr) = CliRunner.Run("decode", "--rgb", rgb, "--latent", latent, "--transparent-decoder", Decoder,
            "--out", Path.Combine(_dir, "o.png"), "--device", "cpu");
        Assert.Equal(ExitCodes.ModelFile, code);
        Assert.Contains("tensor 'latent': holds a non-finite value (NaN) at element 77", stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "o.png")));
    }

    /// <summary>
    /// Finite weights whose products overflow fp32 (every element float.MaxValue): the network's output is Inf or NaN
    /// although no stored value is. The run stops at that network and step.
    /// </summary>
    [Theory]
    [InlineData("unet", "the UNet produced a non-finite value", "at sampler step 1 of 2")]
    [InlineData("vae", "the VAE decoder produced a non-finite value", "decoding image 1 of 1")]
    [InlineData("decoder", "the transparent decoder produced a non-finite value", "")]
    public void ANetworkOverflowingStopsTheRunNamingIt(string where, string network, string when)
    {
        string model = where switch
        {
            "unet" => WithTensor("tiny_sdxl.safetensors", "model.diffusion_model.out.2.weight", float.MaxValue, once: false),
            "vae" => WithTensor("tiny_sdxl.safetensors", "first_stage_model.decoder.conv_out.weight", float.MaxValue, once: false),
            _ => Model,
        };
        string decoder = where == "decoder" ? WithTensor("tiny_transparent_decoder.safetensors", "conv_out.weight", float.MaxValue, once: false) : Decoder;
        var (code, stderr) = Generate(TestPaths.Golden("patch_attn_lora.safetensors"), model, decoder);
        Assert.True(code == ExitCodes.Failed, stderr); // the run failed; the files themselves were valid
        Assert.Contains(network, stderr);
        Assert.Contains(when, stderr);
        Assert.Contains("nothing was written", stderr);
    }

    [Fact]
    public void TheStepGuardPassesFiniteStepsOnAndStopsAtTheFirstBadOne()
    {
        var seen = new List<int>();
        var guard = NonFiniteGuard.Steps(s => seen.Add(s.Index));
        guard(new Native.Sampling.SamplerStep(0, 5, 3f, TimeSpan.Zero, [1f, 2f]));
        var e = Assert.Throws<NonFiniteResultException>(() => guard(new Native.Sampling.SamplerStep(1, 5, 2f, TimeSpan.Zero, [1f, float.NaN])));
        Assert.Contains("at sampler step 2 of 5", e.Message);
        Assert.Equal([0], seen);
    }
}
