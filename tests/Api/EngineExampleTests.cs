using LayerDiffusion.Native.Examples;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.Api;

/// <summary>
/// The package README's C# example (examples/csharp/GenerateWithProgress.cs, compiled into this project) runs as
/// documented: progress per step, an RGBA PNG, cancellation that throws and leaves the engine usable, and the README
/// shows the same code.
/// </summary>
public sealed class EngineExampleTests
{
    [Fact]
    public void TheExampleMakesAnRgbaPngAndReportsEveryStep()
    {
        string png = Path.Combine(TestPaths.TempDir(), "bottle.png");
        var log = new StringWriter();
        GenerateWithProgress.Run(png, CancellationToken.None, log);
        var image = PngReader.Read(png);
        Assert.Equal((128, 128, 4), (image.Width, image.Height, image.Channels));
        for (int i = 1; i <= 8; i++) Assert.Contains($"step {i}/8", log.ToString());
    }

    [Fact]
    public void TheExampleIsCancelledThroughItsToken()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        string png = Path.Combine(TestPaths.TempDir(), "never.png");
        Assert.ThrowsAny<OperationCanceledException>(() => GenerateWithProgress.Run(png, cancel.Token, TextWriter.Null));
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void ACancelledRunLeavesTheEngineUsableAndTheSameImageComesOut()
    {
        var s = new GenerationSettings { Width = 64, Height = 64, Steps = 4, Sampler = "euler", Seed = 3 };
        using var engine = LdEngine.CreateDemo(new EngineOptions { Device = "cpu" });
        var first = engine.Generate(s);
        using var cancel = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => engine.Generate(s, step => { if (step.Index == 1) cancel.Cancel(); }, cancel.Token));
        var again = engine.Generate(s);
        Assert.Equal(first.Images[0].Rgba, again.Images[0].Rgba);
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => engine.Generate(s));
    }

    [Fact]
    public void ThePackageReadmeShowsTheTestedExample()
    {
        string example = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "examples/csharp/GenerateWithProgress.cs"));
        int begin = example.IndexOf("// example-begin\n", StringComparison.Ordinal), end = example.IndexOf("    // example-end", StringComparison.Ordinal);
        Assert.True(begin > 0 && end > begin);
        string body = example[(begin + "// example-begin\n".Length)..end];
        string readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "src/Engine/README.md"));
        Assert.Contains(Unindent(body), readme);
    }

    private static string Unindent(string code) =>
        string.Join("\n", code.TrimEnd().Split('\n').Select(l => l.StartsWith("    ", StringComparison.Ordinal) ? l[4..] : l));
}
