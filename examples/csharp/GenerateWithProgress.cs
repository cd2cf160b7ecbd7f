// The C# API example of src/Engine/README.md, compiled and run by tests/Api/EngineExampleTests.cs.
using LayerDiffusion.Native;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.Pipelines;

namespace LayerDiffusion.Native.Examples;

public static class GenerateWithProgress
{
    // example-begin
    /// <summary>Makes one transparent PNG with the demo model, printing each step; <paramref name="cancel"/> stops it.</summary>
    public static void Run(string outputPng, CancellationToken cancel, TextWriter log)
    {
        // Load once, keep for many images; Dispose frees every weight (on the GPU too).
        using var engine = LdEngine.CreateDemo(new EngineOptions { Device = "auto", Log = log });
        var settings = new GenerationSettings
        {
            Prompt = "a glass bottle, high quality",
            Negative = "bad, ugly",
            Width = 128, Height = 128, Steps = 8, Sampler = "euler", Seed = 7,
        };
        // The callback runs after each sampling step; cancelling throws OperationCanceledException and writes nothing.
        var result = engine.Generate(settings, step => log.WriteLine($"step {step.Index + 1}/{step.Total}"), cancel);
        var image = result.Images[0];
        PngWriter.Write(outputPng, image.Rgba!, result.Width, result.Height, channels: 4);
        log.WriteLine($"{outputPng}: seed {image.Seed} on {engine.DeviceName}");
    }
    // example-end
}
