namespace LayerDiffusion.Native.IO.Outputs;

/// <summary>
/// What one run reads and writes, declared before any work so that every output is checked up front: not the same
/// file as any input or as another output once links are resolved, in a folder that exists and accepts new files,
/// and not an existing folder or device. Errors name the option. The outputs are then written through
/// <see cref="BeginWrites"/>: staged beside their targets and renamed into place together, so a run's outputs all
/// land or none do. A command (or one job of a batch) declares into its own plan.
/// </summary>
public sealed class OutputPlan
{
    private readonly List<Declared> _inputs = [];
    private readonly List<Declared> _outputs = [];
    private readonly Func<string, Stream> _openStaged;

    private sealed record Declared(string Option, string Path, string Real);

    /// <param name="openStaged">
    /// Opens a staged file for writing (tests inject streams that fail part-way, as a full disk does); by default a
    /// new file.
    /// </param>
    public OutputPlan(Func<string, Stream>? openStaged = null)
    {
        _openStaged = openStaged ?? StagedFiles.FaultInjection ?? StagedFiles.OpenNew;
    }

    /// <summary>A file the run reads (a missing path is ignored here: the reader reports it).</summary>
    /// <summary>The inputs declared so far, under the options that named them (what a run's record lists and hashes).</summary>
    public IEnumerable<(string Option, string Path)> DeclaredInputs => _inputs.Select(i => (i.Option, i.Path));

    public OutputPlan Input(string option, string? path)
    {
        if (!string.IsNullOrEmpty(path)) _inputs.Add(new Declared(option, path, RealPath.Of(path)));
        return this;
    }

    public OutputPlan Inputs(string option, IEnumerable<string> paths)
    {
        foreach (var p in paths) Input(option, p);
        return this;
    }

    /// <summary>A file the run will write. Returns the path (as given) for the caller to use.</summary>
    public string Output(string option, string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new InvalidOptionException(option, "needs a file name");
        _outputs.Add(new Declared(option, path, RealPath.Of(path)));
        return path;
    }

    public IReadOnlyList<string> OutputPaths => _outputs.Select(o => o.Path).ToList();

    /// <summary>Checks every declared output; throws <see cref="InvalidOptionException"/> naming the option at the first problem.</summary>
    public void Check()
    {
        var probed = new HashSet<string>(RealPath.Comparer);
        for (int i = 0; i < _outputs.Count; i++)
        {
            var o = _outputs[i];
            foreach (var input in _inputs)
                if (RealPath.Comparer.Equals(o.Real, input.Real))
                    throw new InvalidOptionException(o.Option, $"{o.Path}: is {Describe(o.Path, input.Path, o.Real)}the {input.Option} file; writing it would destroy an input (choose another name; nothing was written)");
            for (int j = 0; j < i; j++)
                if (RealPath.Comparer.Equals(o.Real, _outputs[j].Real))
                    throw new InvalidOptionException(o.Option, $"{o.Path}: is {Describe(o.Path, _outputs[j].Path, o.Real)}the {_outputs[j].Option} output too (choose another name; nothing was written)");
            switch (FileKinds.Of(o.Real))
            {
                case FileKind.Folder: throw new InvalidOptionException(o.Option, $"{o.Path}: is a folder; give a file name");
                case FileKind.Special: throw new InvalidOptionException(o.Option, $"{o.Path}: is a device, pipe or socket, not a file; give a file name");
            }
            string folder = Path.GetDirectoryName(o.Real)!;
            if (!Directory.Exists(folder))
                throw new InvalidOptionException(o.Option, $"{o.Path}: the folder {folder} does not exist") { Kind = ErrorKind.FileAccess };
            if (probed.Add(folder) && StagedFiles.WhyNotWritable(folder) is { } why)
                throw new InvalidOptionException(o.Option, $"{o.Path}: cannot write in {folder} ({why})") { Kind = ErrorKind.FileAccess };
        }
    }

    /// <summary>Says where two names meet when it is not plain from the names themselves (links on the way).</summary>
    private static string Describe(string a, string b, string real) =>
        RealPath.Comparer.Equals(Path.GetFullPath(a), real) && RealPath.Comparer.Equals(Path.GetFullPath(b), real) ? "" : $"(through links, {real}) ";

    /// <summary>Starts writing this plan's outputs (checked again: a folder may have gone while the run worked).</summary>
    public OutputTransaction BeginWrites()
    {
        Check();
        return new(_outputs.ToDictionary(o => o.Path, o => (o.Option, o.Real)), _openStaged);
    }
}
