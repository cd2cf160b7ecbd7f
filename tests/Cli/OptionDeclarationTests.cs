using LayerDiffusion.Native.Cli;
using Xunit;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// The one declaration of commands and options (src/Cli/Options) against what users see: `--help`, the README's
/// option table, the parser, typo suggestions, short aliases and `--version`.
/// </summary>
public sealed class OptionDeclarationTests
{
    [Fact]
    public void ReadmeOptionTableIsTheDeclaration()
    {
        string readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        string? table = HelpWriter.TableIn(readme);
        Assert.NotNull(table);
        // On failure: run scripts/update-readme-options.sh and commit README.md.
        Assert.Equal(HelpWriter.Markdown().ReplaceLineEndings("\n"), table);
    }

    [Fact]
    public void EveryCommandIsDeclaredOnceAndEveryOptionNamesDeclaredCommands()
    {
        Assert.Equal(CliCommands.Names, CliCommands.All.Select(c => c.Name));
        foreach (var o in CliOptions.All)
        {
            Assert.NotEmpty(o.Commands);
            Assert.All(o.Commands, c => Assert.Contains(c, CliCommands.Names));
            Assert.StartsWith("--", o.Name);
            Assert.False(string.IsNullOrWhiteSpace(o.Description), o.Name);
            if (o.Short is not null) Assert.Matches("^-[A-Za-z]$", o.Short);
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void NoNameOrAliasIsDeclaredTwiceForOneCommand(string command)
    {
        var names = CliOptions.For(command).SelectMany(o => o.Short is null ? new[] { o.Name } : [o.Name, o.Short]).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void HelpListsEveryDeclaredOptionWithItsDefaultAndValues(string command)
    {
        foreach (var args in new[] { new[] { command, "--help" }, [command, "-h"], ["help", command] })
        {
            var (code, stdout, stderr) = CliRunner.Run(args);
            Assert.Equal(0, code);
            Assert.Equal("", stderr);
            var options = stdout.Split('\n').SkipWhile(l => l != "options:").ToList();
            foreach (var o in CliOptions.For(command))
            {
                string head = HelpWriter.Head(o).Trim();
                var line = options.SkipWhile(l => l.Trim() != head && !l.TrimStart().StartsWith(head + "  ", StringComparison.Ordinal)).Take(2);
                string text = string.Join(" ", line);
                Assert.Contains(o.Description, text);
                if (o.DefaultText is { } d) Assert.Contains("default " + d, text);
                if (o.Allowed is { } a) Assert.Contains(a, text);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void TheParserAcceptsEveryDeclaredOptionAndAlias(string command)
    {
        foreach (var o in CliOptions.For(command))
            foreach (var name in o.Short is null ? new[] { o.Name } : [o.Name, o.Short])
            {
                var p = new ArgParser(command, o.IsFlag ? [name] : [name, "7"]);
                Assert.True(p.Has(o.Name), $"{command} {name}");
                if (!o.IsFlag) Assert.Equal("7", p.Get(o.Name));
            }
    }

    public static TheoryData<string> Commands() => new(CliCommands.Names);

    [Theory]
    [InlineData("--stpes", "--steps")]
    [InlineData("--seeed", "--seed")]
    [InlineData("--negatve", "--negative")]
    [InlineData("--widht", "--width")]
    public void AMistypedOptionGetsTheNearestName(string typo, string meant)
    {
        var (code, stdout, stderr) = CliRunner.Run("generate", "--demo", typo, "3");
        Assert.Equal(CommandLine.ExitUsage, code);
        Assert.Equal("", stdout);
        Assert.Contains($"did you mean {meant}?", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("genrate", "generate")]
    [InlineData("slftest", "selftest")]
    [InlineData("verfy", "verify")]
    public void AMistypedCommandGetsTheNearestName(string typo, string meant)
    {
        var (code, stdout, stderr) = CliRunner.Run(typo, "--demo");
        Assert.Equal(CommandLine.ExitUsage, code);
        Assert.Equal("", stdout);
        Assert.Contains($"did you mean {meant}?", stderr);
    }

    [Fact]
    public void NothingCloseGetsNoGuess()
    {
        var (code, _, stderr) = CliRunner.Run("generate", "--demo", "--zzzzzzzz");
        Assert.Equal(CommandLine.ExitUsage, code);
        Assert.DoesNotContain("did you mean", stderr);
        Assert.Contains("--zzzzzzzz", stderr);
    }

    [Fact]
    public void AnOptionOfAnotherCommandSaysWhichCommandTakesIt()
    {
        var (code, _, stderr) = CliRunner.Run("verify", "--denoise", "0.5");
        Assert.Equal(CommandLine.ExitUsage, code);
        Assert.Contains("img2img", stderr);
    }

    [Fact]
    public void ShortAliasesAreTheLongOptions()
    {
        var p = new ArgParser("generate", ["-p", "cat", "-n", "dog", "-o", "x.png", "-s", "-1", "-W", "256", "-H", "192", "-b", "2"]);
        Assert.Equal(("cat", "dog", "x.png", "-1", "256", "192", "2"),
            (p.Get("--prompt"), p.Get("--negative"), p.Get("--out"), p.Get("--seed"), p.Get("--width"), p.Get("--height"), p.Get("--batch")));
    }

    [Fact]
    public void DeclaredDefaultsAreWhatRunsUse()
    {
        var plain = GenerationOptions.Settings(new ArgParser("generate", []), Pipelines.LayerMethod.Attn, demo: false);
        var demo = GenerationOptions.Settings(new ArgParser("generate", ["--demo"]), Pipelines.LayerMethod.Attn, demo: true);
        Assert.Equal((20, 1024, "euler_a", "", 12345L), (plain.Steps, plain.Width, plain.Sampler, plain.Prompt, plain.Seed));
        Assert.Equal((8, 128, "euler", "a glass bottle, high quality"), (demo.Steps, demo.Width, demo.Sampler, demo.Prompt));
    }

    [Fact]
    public void OverviewHelpListsEveryCommand()
    {
        foreach (var args in new[] { new[] { "--help" }, ["-h"], ["help"] })
        {
            var (code, stdout, _) = CliRunner.Run(args);
            Assert.Equal(0, code);
            foreach (var c in CliCommands.All) Assert.Contains($"  {c.Name,-10} {c.Summary}", stdout);
        }
        var (noArgs, noOut, noErr) = CliRunner.Run();
        Assert.Equal(CommandLine.ExitUsage, noArgs);
        Assert.Equal("", noOut);
        Assert.Contains("usage: ld", noErr);
    }

    [Fact]
    public void VersionPrintsTheVersionAndTheCommit()
    {
        foreach (var args in new[] { new[] { "--version" }, ["generate", "--version"] })
        {
            var (code, stdout, stderr) = CliRunner.Run(args);
            Assert.Equal(0, code);
            Assert.Equal("", stderr);
            Assert.Matches(@"^ld \S+ \(commit ([0-9a-f]{7,40}|unknown)\)\n$", stdout.ReplaceLineEndings("\n"));
            Assert.Contains(BuildInfo.Commit, stdout);
        }
    }

    [Fact]
    public void UpdateReadmeRewritesOnlyTheRegion()
    {
        string dir = TestPaths.TempDir(), path = Path.Combine(dir, "README.md");
        File.WriteAllText(path, "intro\n<!-- ld-options:begin -->\nstale\n<!-- ld-options:end -->\noutro\n");
        var (code, _, _) = CliRunner.Run("help", "--update-readme", path, "--quiet");
        Assert.Equal(0, code);
        string text = File.ReadAllText(path);
        Assert.StartsWith("intro\n" + HelpWriter.ReadmeBegin + "\n", text);
        Assert.EndsWith("<!-- ld-options:end -->\noutro\n", text);
        Assert.Equal(HelpWriter.Markdown(), HelpWriter.TableIn(text));
        Assert.DoesNotContain("stale", text);
    }
}
