using System.Globalization;
using System.Text;

namespace LayerDiffusion.Native.Text;

/// <summary>One entry of a prompt schedule: the text used while the step counter is at most <see cref="EndAtStep"/>.</summary>
public sealed record ScheduledPrompt(int EndAtStep, string Text);

/// <summary>
/// A1111/Forge prompt editing and alternation (modules/prompt_parser.py get_learned_conditioning_prompt_schedules,
/// without hires fix, "old scheduling" off): `[from:to:when]`, `[to:when]`, `[from::when]` switch text after step
/// `when` (a number with a '.' is a fraction of the steps, else a step; truncated, at most the steps), `[a|b|…]`
/// cycles per step. Parsed by recursive descent with the same grammar as A1111's Lark one: plain text is anything
/// but `\[]():|` (backslash escapes kept as written), `( … )`, `( … : … )` and `[ … ]` are emphasis and are kept as
/// written around their edited contents, and stray brackets and colons at the top level are text. A prompt the
/// grammar rejects (a '|' outside brackets) is used unchanged for every step, as A1111 does on a parse error.
/// </summary>
public static class PromptSchedule
{
    private abstract record Node;
    private sealed record Text(string Value) : Node;
    private sealed record Group(string Open, IReadOnlyList<Node> Inner, string Close) : Node;
    /// <summary>Emphasis with a weight: `(` first `:` second `)`, both parts prompts.</summary>
    private sealed record WeightedGroup(IReadOnlyList<Node> First, IReadOnlyList<Node> Second) : Node;
    private sealed record Scheduled(IReadOnlyList<Node>? Before, IReadOnlyList<Node> After, string When) : Node;
    private sealed record Alternate(IReadOnlyList<IReadOnlyList<Node>> Options) : Node;

    public static IReadOnlyList<ScheduledPrompt> Parse(string prompt, int steps)
    {
        var tree = new Parser(prompt).Start();
        if (tree is null) return [new(steps, prompt)];
        var ends = new SortedSet<int> { steps };
        Collect(tree, steps, ends);
        return ends.Select(t => new ScheduledPrompt(t, Render(tree, t, steps))).ToList();
    }

    /// <summary>
    /// The entry for the denoiser's call counter (0-based, one count per model call) as A1111's
    /// reconstruct_cond_batch picks it: the first entry with counter ≤ EndAtStep, and the first entry when none is.
    /// </summary>
    public static int IndexAt(IReadOnlyList<ScheduledPrompt> schedule, int counter)
    {
        for (int i = 0; i < schedule.Count; i++)
            if (counter <= schedule[i].EndAtStep) return i;
        return 0;
    }

    /// <summary>`when` as a step: with a '.' a fraction of the steps, else a step number; truncated, capped at the steps.</summary>
    private static int Step(string when, int steps)
    {
        double v = double.Parse(when, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (when.Contains('.')) v *= steps;
        return (int)Math.Min(steps, Math.Truncate(v));
    }

    private static void Collect(IReadOnlyList<Node> nodes, int steps, SortedSet<int> ends)
    {
        foreach (var n in nodes)
        {
            switch (n)
            {
                case Group g: Collect(g.Inner, steps, ends); break;
                case WeightedGroup w: Collect(w.First, steps, ends); Collect(w.Second, steps, ends); break;
                case Scheduled s:
                    if (s.Before is not null) Collect(s.Before, steps, ends);
                    Collect(s.After, steps, ends);
                    if (Step(s.When, steps) is >= 1 and int end) ends.Add(end);
                    break;
                case Alternate a:
                    foreach (var o in a.Options) Collect(o, steps, ends);
                    for (int t = 1; t <= steps; t++) ends.Add(t);
                    break;
            }
        }
    }

    private static string Render(IReadOnlyList<Node> nodes, int step, int steps)
    {
        var sb = new StringBuilder();
        foreach (var n in nodes)
        {
            switch (n)
            {
                case Text t: sb.Append(t.Value); break;
                case Group g: sb.Append(g.Open).Append(Render(g.Inner, step, steps)).Append(g.Close); break;
                case WeightedGroup w: sb.Append('(').Append(Render(w.First, step, steps)).Append(':').Append(Render(w.Second, step, steps)).Append(')'); break;
                case Scheduled s:
                    var chosen = step <= Step(s.When, steps) ? s.Before : s.After;
                    if (chosen is not null) sb.Append(Render(chosen, step, steps));
                    break;
                case Alternate a: sb.Append(Render(a.Options[(step - 1) % a.Options.Count], step, steps)); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Recursive descent with backtracking over the prompt; every method restores the position when it fails.</summary>
    private sealed class Parser(string s)
    {
        private int _pos;

        /// <summary>start: (prompt | stray [ ] ( ) :)*; null when the grammar rejects the prompt.</summary>
        public List<Node>? Start()
        {
            var nodes = new List<Node>();
            while (_pos < s.Length)
            {
                var items = Prompt();
                nodes.AddRange(items);
                if (_pos >= s.Length) break;
                char c = s[_pos];
                if (c is '[' or ']' or '(' or ')' or ':') { nodes.Add(new Text(c.ToString())); _pos++; }
                else return null; // '|' outside brackets: A1111's parser raises and the prompt is used as written
            }
            return nodes;
        }

        /// <summary>prompt: (emphasized | scheduled | alternate | plain | whitespace)*; stops at what it cannot take.</summary>
        private List<Node> Prompt()
        {
            var nodes = new List<Node>();
            while (_pos < s.Length)
            {
                char c = s[_pos];
                if (c == '[' && Bracket() is { } b) nodes.Add(b);
                else if (c == '(' && Round() is { } r) nodes.Add(r);
                else if (Plain() is { } p) nodes.Add(p);
                else break;
            }
            return nodes;
        }

        private Text? Plain()
        {
            int start = _pos;
            while (_pos < s.Length)
            {
                char c = s[_pos];
                if (c == '\\' && _pos + 1 < s.Length) { _pos += 2; continue; }
                if (c is '[' or ']' or '(' or ')' or ':' or '|' or '\\') break;
                _pos++;
            }
            return _pos > start ? new Text(s[start.._pos]) : null;
        }

        private bool Take(char c)
        {
            if (_pos < s.Length && s[_pos] == c) { _pos++; return true; }
            return false;
        }

        private Node? Round()
        {
            int start = _pos;
            _pos++;
            var first = Prompt();
            if (Take(')')) return new Group("(", first, ")");
            if (Take(':'))
            {
                var second = Prompt();
                if (Take(')')) return new WeightedGroup(first, second);
            }
            _pos = start;
            return null;
        }

        /// <summary>At '[': scheduled (both forms), alternate, or emphasis, tried in that order.</summary>
        private Node? Bracket()
        {
            int start = _pos;
            foreach (var attempt in new Func<Node?>[] { () => ScheduledForm(true), () => ScheduledForm(false), AlternateForm, SquareGroup })
            {
                _pos = start + 1;
                if (attempt() is { } node) return node;
            }
            _pos = start;
            return null;
        }

        private Node? ScheduledForm(bool withBefore)
        {
            List<Node>? before = null;
            if (withBefore)
            {
                before = Prompt();
                if (!Take(':')) return null;
            }
            var after = Prompt();
            if (!Take(':')) return null;
            SkipWhitespace();
            string? number = Number();
            if (number is null) return null;
            SkipWhitespace();
            return Take(']') ? new Scheduled(before, after, number) : null;
        }

        private Node? AlternateForm()
        {
            var options = new List<IReadOnlyList<Node>> { Prompt() };
            if (!Take('|')) return null;
            do options.Add(Prompt()); while (Take('|'));
            return Take(']') ? new Alternate(options) : null;
        }

        private Node? SquareGroup()
        {
            var inner = Prompt();
            return Take(']') ? new Group("[", inner, "]") : null;
        }

        private void SkipWhitespace()
        {
            while (_pos < s.Length && char.IsWhiteSpace(s[_pos])) _pos++;
        }

        /// <summary>Lark's SIGNED_NUMBER: [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?.</summary>
        private string? Number()
        {
            int start = _pos;
            if (_pos < s.Length && s[_pos] is '+' or '-') _pos++;
            int digits = Digits();
            if (Take('.')) digits += Digits();
            if (digits == 0) { _pos = start; return null; }
            if (_pos < s.Length && s[_pos] is 'e' or 'E')
            {
                int e = _pos++;
                if (_pos < s.Length && s[_pos] is '+' or '-') _pos++;
                if (Digits() == 0) _pos = e;
            }
            return s[start.._pos];
        }

        private int Digits()
        {
            int start = _pos;
            while (_pos < s.Length && char.IsAsciiDigit(s[_pos])) _pos++;
            return _pos - start;
        }
    }
}
