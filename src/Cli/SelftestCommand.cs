using System.Text.Json;
using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Backends.Selftest;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `ld selftest [--device cuda] [--precision fp32|fp16|bf16] [--filter A|B] [--exclude A|B] [--seed N] [--json FILE] [--list]`:
/// every backend op on seeded random inputs against the CPU reference, one line per op and shape, exit 1 on any FAIL.
/// </summary>
public static class SelftestCommand
{
    public static int Run(ArgParser p)
    {
        if (p.Flag("--kernels"))
        {
            // What this build embeds (works without a GPU): one PTX module per kernels/*.cu.
            foreach (var m in KernelLibrary.ModuleNames)
            {
                var ptx = KernelLibrary.EmbeddedPtx(m);
                int entries = ptx is null ? 0 : System.Text.Encoding.ASCII.GetString(ptx).Split(".entry ").Length - 1;
                Console.WriteLine($"{m}.ptx: {(ptx is null ? "MISSING" : $"{ptx.Length} bytes, {entries} kernels")}");
            }
            return CommandLine.ExitOk;
        }
        string? filter = p.Get("--filter"), exclude = p.Get("--exclude");
        if (p.Flag("--list"))
        {
            foreach (var c in SelftestRunner.Select(filter, p.Flag("--time"), exclude)) Console.WriteLine(c.Name);
            return CommandLine.ExitOk;
        }
        var precision = PrecisionMode.Parse(p.Value("--precision"));
        int seed = p.Int("--seed");
        string? jsonPath = p.Get("--json");
        var plan = new IO.Outputs.OutputPlan();
        if (jsonPath is not null) plan.Output("--json", jsonPath);
        plan.Check();
        bool timing = p.Flag("--time");
        if (!SelftestRunner.Select(filter, timing, exclude).Any()) throw new InvalidOptionException("--filter", $"'{filter}' matches no case (see --list)");

        using var backend = DeviceSelection.Create(p.Value("--device"), precision, CliLog.For(p).Notes);
        Console.WriteLine($"selftest on {backend.Name}, precision {precision.ToString().ToLowerInvariant()}, tolerance rel_l2 <= {SelftestRunner.Tolerance(precision):0.#e+00}");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        if (backend is CudaBackend kb)
        {
            var errors = kb.LoadKernels();
            Console.WriteLine($"kernel modules loaded in {sw.Elapsed.TotalSeconds:F1} s{(errors.Count == 0 ? "" : $", {errors.Count} FAILED:")}");
            foreach (var e in errors) Console.WriteLine("  " + e);
            sw.Restart();
        }
        var results = SelftestRunner.Run(backend, precision, filter, Console.Out, seed, timing, exclude);
        int failed = results.Count(r => !r.Passed), skipped = results.Count(r => r.Skipped is not null);
        int timed = results.Count(r => r.TimingOnly && r.Passed && r.Skipped is null), passed = results.Count - failed - timed - skipped;
        Console.WriteLine($"selftest: {passed} passed, {failed} failed{(timed > 0 ? $", {timed} timed" : "")}{(skipped > 0 ? $", {skipped} skipped" : "")} ({sw.Elapsed.TotalSeconds:F1} s)");
        if (backend is CudaBackend cb)
            Console.WriteLine($"device memory: peak {cb.Pool.PeakBytes / 1048576.0:F1} MiB in use, {cb.Pool.CachedBytes / 1048576.0:F1} MiB cached");
        if (jsonPath is not null)
        {
            using var writes = plan.BeginWrites();
            writes.Stage(jsonPath, s => WriteJson(s, backend.Name, precision, results));
            writes.Commit();
        }
        return failed > 0 ? CommandLine.ExitFailed : CommandLine.ExitOk;
    }

    private static void WriteJson(Stream stream, string device, Precision precision, List<SelftestResult> results)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("device", device);
        w.WriteString("precision", precision.ToString().ToLowerInvariant());
        w.WriteNumber("passed", results.Count(r => r.Passed && r.Skipped is null));
        w.WriteNumber("skipped", results.Count(r => r.Skipped is not null));
        w.WriteNumber("failed", results.Count(r => !r.Passed));
        w.WriteStartArray("cases");
        foreach (var r in results)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteBoolean("passed", r.Passed);
            if (double.IsFinite(r.MaxAbs)) w.WriteNumber("max_abs", r.MaxAbs); else w.WriteString("max_abs", r.MaxAbs.ToString());
            if (double.IsFinite(r.RelL2)) w.WriteNumber("rel_l2", r.RelL2); else w.WriteString("rel_l2", r.RelL2.ToString());
            w.WriteNumber("tolerance", r.Tolerance);
            if (r.Milliseconds is { } ms) w.WriteNumber("ms", ms);
            if (r.TimingOnly) w.WriteBoolean("timing_only", true);
            if (r.Error is not null) w.WriteString("error", r.Error);
            if (r.Skipped is not null) w.WriteString("skipped", r.Skipped);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
