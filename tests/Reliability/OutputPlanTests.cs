using LayerDiffusion.Native.IO.Outputs;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>The output plan's checks (links resolved, folders, devices) and the all-or-nothing writer.</summary>
public sealed class OutputPlanTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content = "input")
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private static InvalidOptionException Refused(OutputPlan plan, string option, string expected)
    {
        var e = Assert.Throws<InvalidOptionException>(plan.Check);
        Assert.StartsWith(option + ":", e.Message);
        Assert.Contains(expected, e.Message);
        return e;
    }

    [Fact]
    public void RealPathResolvesLinksInEveryComponentAndAMissingTail()
    {
        string models = Directory.CreateDirectory(Path.Combine(_dir, "models")).FullName;
        string model = Write("models/m.safetensors");
        Directory.CreateDirectory(Path.Combine(_dir, "a"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "a", "linked"), "../models");
        File.CreateSymbolicLink(Path.Combine(_dir, "hop1"), "hop2");
        File.CreateSymbolicLink(Path.Combine(_dir, "hop2"), Path.Combine(_dir, "a", "linked", "m.safetensors"));
        Assert.Equal(model, RealPath.Of(Path.Combine(_dir, "hop1")));
        Assert.Equal(model, RealPath.Of(Path.Combine(_dir, "a", "linked", "..", "linked", "m.safetensors")));
        Assert.Equal(Path.Combine(models, "new", "x.png"), RealPath.Of(Path.Combine(_dir, "a", "linked", "new", "x.png")));
        Assert.Equal(Path.Combine(_dir, "models", "not-yet.png"), RealPath.Of(Path.Combine(_dir, "a", "linked", "not-yet.png")));
    }

    [Fact]
    public void AnOutputThatIsAnInputIsRefusedNamingBothOptions()
    {
        string model = Write("m.safetensors");
        Refused(new OutputPlan().Input("--model", model).Also(p => p.Output("--save-latent", model)), "--save-latent", "the --model file");
    }

    [Fact]
    public void AnOutputReachingAnInputThroughLinksIsRefused()
    {
        string model = Write("models/m.safetensors");
        File.CreateSymbolicLink(Path.Combine(_dir, "out.png"), model);                  // the output itself is a link
        Directory.CreateSymbolicLink(Path.Combine(_dir, "view"), Path.Combine(_dir, "models")); // a linked folder
        var e = Refused(new OutputPlan().Input("--model", model).Also(p => p.Output("--out", Path.Combine(_dir, "out.png"))), "--out", "the --model file");
        Assert.Contains("through links", e.Message);
        Refused(new OutputPlan().Input("--layer-model", model).Also(p => p.Output("--json", Path.Combine(_dir, "view", "m.safetensors"))),
            "--json", "the --layer-model file");
    }

    [Fact]
    public void TwoOutputsOnOneFileAreRefused()
    {
        string png = Path.Combine(_dir, "x.png");
        var plan = new OutputPlan();
        plan.Output("--out", png);
        plan.Output("--json", Path.Combine(_dir, ".", "x.png"));
        Refused(plan, "--json", "the --out output too");
    }

    [Theory]
    [InlineData("missing-folder")]
    [InlineData("folder")]
    [InlineData("device")]
    [InlineData("unwritable")]
    public void BadDestinationsAreRefusedBeforeAnyWork(string kind)
    {
        var (path, expected) = kind switch
        {
            "missing-folder" => (Path.Combine(_dir, "no", "such", "x.png"), "does not exist"),
            "folder" => (_dir, "is a folder"),
            "device" => ("/dev/null", "is a device, pipe or socket"),
            _ => ("/sys/ld-test-output.png", "cannot write in /sys"),
        };
        if (!OperatingSystem.IsLinux() && kind is "device" or "unwritable") return;
        var plan = new OutputPlan();
        plan.Output("--out", path);
        Refused(plan, "--out", expected);
    }

    [Fact]
    public void AllOutputsLandTogetherAndReplaceOlderFiles()
    {
        string a = Write("a.png", "old a"), b = Path.Combine(_dir, "b.json");
        var plan = new OutputPlan();
        plan.Output("--out", a);
        plan.Output("--json", b);
        plan.Check();
        using (var tx = plan.BeginWrites())
        {
            tx.Stage(a, s => s.Write("new a"u8));
            tx.Stage(b, s => s.Write("new b"u8));
            Assert.Equal("old a", File.ReadAllText(a));   // nothing lands before the commit
            Assert.False(File.Exists(b));
            tx.Commit();
        }
        Assert.Equal("new a", File.ReadAllText(a));
        Assert.Equal("new b", File.ReadAllText(b));
        Assert.Equal(["a.png", "b.json"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// A full disk part-way through the second of three outputs (a stream that fails after 100 bytes): nothing new is
    /// kept, the older file at the first target is untouched, no staged file remains, and the error names the option.
    /// </summary>
    [Fact]
    public void AFullDiskKeepsNothingOfTheRun()
    {
        string a = Write("a.png", "old a"), b = Path.Combine(_dir, "b.safetensors"), c = Path.Combine(_dir, "c.json");
        var plan = new OutputPlan(FailingStream.FailingAt(2, budget: 100));
        plan.Output("--out", a);
        plan.Output("--save-latent", b);
        plan.Output("--json", c);
        plan.Check();
        var e = Assert.Throws<InvalidOptionException>(() =>
        {
            using var tx = plan.BeginWrites();
            tx.Stage(a, s => s.Write(new byte[5000]));
            tx.Stage(b, s => s.Write(new byte[5000]));
            tx.Stage(c, s => s.Write(new byte[10]));
            tx.Commit();
        });
        Assert.StartsWith("--save-latent:", e.Message);
        Assert.Contains("No space left on device", e.Message);
        Assert.Equal("old a", File.ReadAllText(a));
        Assert.Equal(["a.png"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    /// <summary>
    /// The kernel's own ENOSPC: staged writes go to /dev/full, which fails every write with "No space left on device".
    /// This proves the real error is reported and cleaned up; it does not model a disk that fills part-way (above).
    /// </summary>
    [Fact]
    public void TheKernelsNoSpaceErrorIsReportedCleanly()
    {
        if (!File.Exists("/dev/full")) return;
        string a = Path.Combine(_dir, "a.png");
        var plan = new OutputPlan(_ => new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1));
        plan.Output("--out", a);
        plan.Check();
        var e = Assert.Throws<InvalidOptionException>(() =>
        {
            using var tx = plan.BeginWrites();
            tx.Stage(a, s => s.Write(new byte[4096]));
        });
        Assert.Contains("--out", e.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void OutputsLandedEarlyAreTakenBackWithoutACommit()
    {
        string preview = Write("p.png", "old preview"), fresh = Path.Combine(_dir, "q.png");
        var plan = new OutputPlan();
        plan.Output("--preview-every", preview);
        plan.Output("--preview-every", fresh);
        plan.Check();
        using (var tx = plan.BeginWrites())
        {
            tx.WriteNow(preview, s => s.Write("new"u8));
            tx.WriteNow(fresh, s => s.Write("new"u8));
            Assert.Equal("new", File.ReadAllText(preview));
        }
        Assert.Equal("old preview", File.ReadAllText(preview));
        Assert.Equal(["p.png"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void AHardLinkToAnInputIsReplacedNotWrittenThrough()
    {
        // Writing renames a new file into place, so even a name that shares the input's inode leaves the input intact.
        string model = Write("m.safetensors", "weights");
        string link = Path.Combine(_dir, "hard.png");
        if (!OperatingSystem.IsLinux() || Link(model, link) != 0) return;
        var plan = new OutputPlan().Input("--model", model);
        plan.Output("--out", link);
        plan.Check();
        using (var tx = plan.BeginWrites())
        {
            tx.Stage(link, s => s.Write("png"u8));
            tx.Commit();
        }
        Assert.Equal("weights", File.ReadAllText(model));
        Assert.Equal("png", File.ReadAllText(link));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link")]
    private static extern int Link(string existing, string created);
}

internal static class PlanTestExtensions
{
    public static OutputPlan Also(this OutputPlan plan, Action<OutputPlan> more)
    {
        more(plan);
        return plan;
    }
}
