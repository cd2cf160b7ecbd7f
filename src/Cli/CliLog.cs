using System.Text;
using System.Text.Json;

namespace LayerDiffusion.Native.Cli;

/// <summary>How a command's progress is shown on stderr (`--progress`).</summary>
public enum ProgressStyle { Bar, Lines, Jsonl, None }

/// <summary>
/// Where a command's stderr talk goes, from --quiet, --verbose and --progress: <see cref="Notes"/> (device choice,
/// the demo's warning, a random seed, phase timings) go to stderr, nowhere with --quiet, and as JSON note events
/// with --progress jsonl (so stderr stays one JSON object per line); <see cref="Detail"/> only with --verbose.
/// </summary>
public sealed class CliLog
{
    private CliLog(ProgressStyle progress, TextWriter notes, TextWriter detail)
    {
        Progress = progress;
        Notes = notes;
        Detail = detail;
    }

    public ProgressStyle Progress { get; }
    public TextWriter Notes { get; }
    public TextWriter Detail { get; }
    public bool Jsonl => Progress == ProgressStyle.Jsonl;

    public static CliLog For(ArgParser p)
    {
        // An explicit --progress wins over --quiet (a script asked for those events); otherwise --quiet shows none.
        var progress = p.Get("--progress") switch
        {
            null => p.Quiet ? ProgressStyle.None : Console.IsErrorRedirected ? ProgressStyle.Lines : ProgressStyle.Bar,
            "bar" => ProgressStyle.Bar,
            "lines" => ProgressStyle.Lines,
            "jsonl" => ProgressStyle.Jsonl,
            "none" => ProgressStyle.None,
            var other => throw new InvalidOptionException("--progress", $"'{other}' is not one of bar, lines, jsonl, none"),
        };
        bool jsonl = progress == ProgressStyle.Jsonl;
        TextWriter notes = p.Quiet ? TextWriter.Null : jsonl ? new JsonlNotes("note") : Console.Error;
        TextWriter detail = !p.Verbose ? TextWriter.Null : jsonl ? new JsonlNotes("detail") : Console.Error;
        return new CliLog(progress, notes, detail);
    }

    /// <summary>One JSON event line on stderr: {"event": NAME, ...}.</summary>
    public static void Event(string name, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("event", name);
            body(w);
            w.WriteEndObject();
        }
        Console.Error.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>Each line written becomes {"event": "note", "text": LINE}.</summary>
    private sealed class JsonlNotes(string eventName) : TextWriter
    {
        private readonly StringBuilder _line = new();
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n') Flush();
            else if (value != '\r') _line.Append(value);
        }

        public override void Flush()
        {
            if (_line.Length == 0) return;
            string text = _line.ToString();
            _line.Clear();
            Event(eventName, w => w.WriteString("text", text));
        }
    }
}
