namespace LayerDiffusion.Native.IO.Outputs;

/// <summary>
/// Writes a plan's outputs so that they all land or none do. <see cref="Stage"/> writes a file completely (flushed
/// to disk) under a hidden name beside its target; <see cref="Commit"/> renames every staged file into place. A file
/// that already exists at a target is first renamed aside and removed only once every output has landed, so a
/// failure at any point, a rename included, restores what was there. <see cref="WriteNow"/> lands one file at once
/// (progress previews) under the same rule: disposed without a commit, the transaction takes it back.
/// </summary>
public sealed class OutputTransaction : IDisposable
{
    private readonly IReadOnlyDictionary<string, (string Option, string Real)> _declared;
    private readonly Func<string, Stream> _open;
    private readonly List<(string Target, string Staged)> _staged = [];
    private readonly List<(string Target, string? Backup)> _landed = [];
    private bool _committed;

    internal OutputTransaction(IReadOnlyDictionary<string, (string Option, string Real)> declared, Func<string, Stream> open)
    {
        _declared = declared;
        _open = open;
    }

    /// <summary>Writes the output declared as <paramref name="path"/> to its staged file.</summary>
    public void Stage(string path, Action<Stream> write)
    {
        if (_committed) throw new InvalidOperationException("the outputs were already committed");
        if (!_declared.TryGetValue(path, out var d)) throw new InvalidOperationException($"{path} was not declared as an output of this run");
        string staged = StagedFiles.Beside(d.Real, "new");
        try
        {
            using (var s = _open(staged))
            {
                write(s);
                if (s is FileStream fs) fs.Flush(flushToDisk: true);
                else s.Flush();
            }
            _staged.Add((d.Real, staged));
        }
        catch (Exception e)
        {
            TryDelete(staged);
            if (e is IOException or UnauthorizedAccessException)
                throw new InvalidOptionException(d.Option, $"{path}: cannot write ({e.Message}); no output of this run was kept") { Kind = ErrorKind.FileAccess };
            throw;
        }
    }

    /// <summary>Stages and lands one output now; it is taken back if the transaction ends without a commit.</summary>
    public void WriteNow(string path, Action<Stream> write)
    {
        Stage(path, write);
        var (target, staged) = _staged[^1];
        _staged.RemoveAt(_staged.Count - 1);
        Land(target, staged, _declared[path].Option, path);
    }

    /// <summary>Lands every staged output; on a failure everything this transaction landed is taken back.</summary>
    public void Commit()
    {
        if (_committed) return;
        while (_staged.Count > 0)
        {
            var (target, staged) = _staged[0];
            _staged.RemoveAt(0);
            var d = _declared.First(kv => RealPath.Comparer.Equals(kv.Value.Real, target));
            Land(target, staged, d.Value.Option, d.Key);
        }
        _committed = true;
        foreach (var (_, backup) in _landed)
            if (backup is not null) TryDelete(backup);
        _landed.Clear();
    }

    private void Land(string target, string staged, string option, string path)
    {
        string? backup = null;
        try
        {
            if (File.Exists(target))
            {
                backup = StagedFiles.Beside(target, "old");
                File.Move(target, backup);
            }
            File.Move(staged, target);
            _landed.Add((target, backup));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (backup is not null && !File.Exists(target)) TryMove(backup, target);
            TryDelete(staged);
            throw new InvalidOptionException(option, $"{path}: cannot put the file in place ({e.Message}); no output of this run was kept") { Kind = ErrorKind.FileAccess };
        }
    }

    /// <summary>Without a commit: removes the staged files and takes back what landed, restoring what it replaced.</summary>
    public void Dispose()
    {
        if (_committed) return;
        foreach (var (_, staged) in _staged) TryDelete(staged);
        _staged.Clear();
        for (int i = _landed.Count - 1; i >= 0; i--)
        {
            var (target, backup) = _landed[i];
            TryDelete(target);
            if (backup is not null) TryMove(backup, target);
        }
        _landed.Clear();
        _committed = true;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static void TryMove(string from, string to)
    {
        try { File.Move(from, to); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
