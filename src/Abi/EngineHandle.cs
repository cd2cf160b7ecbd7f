using System.Runtime.InteropServices;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Abi;

/// <summary>An <see cref="LdEngine"/> behind an opaque C pointer (a GC handle), with the cancellation ld_cancel sets.</summary>
internal sealed class EngineHandle
{
    private readonly LdEngine _engine;
    private readonly Lock _gate = new();
    private CancellationTokenSource _cancel = new();

    private EngineHandle(LdEngine engine) => _engine = engine;

    public static unsafe nint Create(in EngineOptions o)
    {
        var options = new Native.EngineOptions
        {
            Device = Exports.Str(o.Device) ?? "auto",
            Precision = PrecisionMode.ParseOrAuto(Exports.Str(o.Precision)),
            Log = o.Log == null ? null : new CallbackWriter(o.Log, o.LogUser),
        };
        LdEngine engine;
        if (o.Demo != 0) engine = LdEngine.CreateDemo(options);
        else
        {
            var method = Exports.Str(o.Method) is { } m ? LayerMethods.Parse("method", m) : LayerMethod.Attn;
            var paths = new ModelPaths
            {
                Checkpoint = Exports.Str(o.Checkpoint) ?? throw new InvalidSettingException("checkpoint", "is NULL: pass an SDXL .safetensors checkpoint, or set demo"),
                Tokenizer = Exports.Str(o.Tokenizer),
                LayerModel = Exports.Str(o.LayerModel),
                TransparentDecoder = Exports.Str(o.TransparentDecoder),
                TransparentEncoder = Exports.Str(o.TransparentEncoder),
            }.WithModelsDir(Exports.Str(o.ModelsDir), method);
            engine = LdEngine.Create(paths, options);
        }
        return GCHandle.ToIntPtr(GCHandle.Alloc(new EngineHandle(engine)));
    }

    public static EngineHandle From(nint handle) =>
        handle == 0 ? throw new InvalidSettingException("engine", "is NULL")
            : GCHandle.FromIntPtr(handle).Target as EngineHandle ?? throw new InvalidSettingException("engine", "is not an engine (freed already?)");

    public static void Free(nint handle)
    {
        if (handle == 0) return;
        var gc = GCHandle.FromIntPtr(handle);
        (gc.Target as EngineHandle)?._engine.Dispose();
        gc.Free();
    }

    /// <summary>Runs one call; a cancel before or during it stops it, and the next call starts uncancelled.</summary>
    public GenerationResult Run(GenerationSettings s, GenerationInputs inputs, SamplerCallback? progress)
    {
        CancellationToken token;
        lock (_gate) token = _cancel.Token;
        try
        {
            return _engine.Run(s, inputs, progress, token);
        }
        finally
        {
            lock (_gate)
                if (_cancel.IsCancellationRequested) { _cancel.Dispose(); _cancel = new CancellationTokenSource(); }
        }
    }

    public void Cancel()
    {
        lock (_gate) _cancel.Cancel();
    }

    /// <summary>The engine's log lines, forwarded to the C log callback one line at a time.</summary>
    private sealed unsafe class CallbackWriter(delegate* unmanaged<void*, int, byte*, void> log, void* user) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n') Flush();
            else if (value != '\r') _line.Append(value);
        }

        public override void Flush()
        {
            if (_line.Length == 0) return;
            var text = Marshal.StringToCoTaskMemUTF8(_line.ToString());
            _line.Clear();
            try { log(user, 0, (byte*)text); }
            finally { Marshal.FreeCoTaskMem(text); }
        }
    }
}
