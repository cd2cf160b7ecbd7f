using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.IO.Outputs;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Vae;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Pipelines.Memory;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `ld decode --rgb IMAGE --latent FILE.safetensors`: the transparent decoder alone, on an image and the latent it was
/// decoded from (tensor <c>latent</c> [1, 4, h/8, w/8], the unscaled VAE latent, as `--save-latent` writes it; a
/// batch [B, 4, h/8, w/8] needs --index to pick the image). With
/// --model instead of --rgb the checkpoint's VAE decodes the latent first, as `ld generate` would. Writes the RGBA
/// PNG (and with --vis the checkerboard preview); the image's infotext is carried over.
/// </summary>
public static class DecodeCommand
{
    public const string LatentTensor = "latent";

    public static int Run(ArgParser p)
    {
        string latentPath = p.Get("--latent") ?? throw new InvalidOptionException("--latent", "is required: a .safetensors file with tensor 'latent' [1, 4, h/8, w/8]");
        string? rgbPath = p.Get("--rgb"), modelPath = p.Get("--model");
        if ((rgbPath is null) == (modelPath is null))
            throw new InvalidOptionException("--rgb", "give either --rgb (the VAE-decoded image) or --model (a checkpoint whose VAE decodes the latent), not both or neither");
        string output = GenerateCommand.CheckOutput(p.Value("--out"));
        string visName = output[..^4] + "_vis.png";
        string decoderPath = DecoderPath(p);
        if (modelPath is not null && !File.Exists(modelPath)) throw new InvalidOptionException("--model", $"{modelPath}: file not found") { Kind = ErrorKind.FileAccess };
        var plan = new OutputPlan()
            .Input("--latent", latentPath).Input("--rgb", rgbPath).Input("--model", modelPath)
            .Input(p.Has("--transparent-decoder") ? "--transparent-decoder" : "--models-dir", decoderPath);
        plan.Output("--out", output);
        if (p.Flag("--vis")) plan.Output("--vis", visName);
        plan.Check();

        if (!File.Exists(latentPath)) throw new InvalidOptionException("--latent", $"{latentPath}: file not found") { Kind = ErrorKind.FileAccess };
        var (latent, channels, latentH, latentW) = ReadLatent(latentPath, p.Has("--index") ? p.Int("--index", 0) : null);
        int height = latentH * 8, width = latentW * 8;
        var (rgbBytes, parameters) = rgbPath is null ? (null, null) : ReadRgb(rgbPath, height, width, ImageOptions.Limits(p));

        var precision = PrecisionMode.ParseOrAuto(p.Get("--precision"));
        using var mainBackend = DeviceSelection.Create(p.Value("--device"), precision, CliLog.For(p).Notes);
        var backend = NetworkPrecision.ForVae(mainBackend);
        var memory = WorkingSetEstimate.ForDecode(decoderPath, rgbBytes is null ? modelPath : null, height, width, mainBackend);
        MemoryCheck.Require(memory, "--latent", $"{latentPath} ({width}x{height})", "decode a smaller latent",
            AvailableMemory.HostBytes(), AvailableMemory.DeviceBytes(mainBackend));
        using var decoderFile = SafeTensorsFile.Open(decoderPath);
        var decoder = TransparentDecoder.Load(backend, decoderFile);
        if (decoder.Config.LatentChannels != channels)
            throw new ModelFormatException(latentPath, LatentTensor, $"has {channels} channels, but the transparent decoder {decoderPath} takes {decoder.Config.LatentChannels}");

        using var z = backend.FromHost(latent, 1, channels, latentH, latentW);
        byte[] rgb = rgbBytes ?? VaeDecode(backend, modelPath!, z);
        // Ctrl-C and SIGTERM stop the decode between its passes (exit 130, nothing written).
        using var cancel = new CancellationTokenSource();
        using var signals = CancelSignals.Route(cancel);
        var (rgba, preview) = TransparentOutput.Decode(backend, decoder, rgb, z, height, width, cancel.Token);

        var text = parameters is not null ? new[] { new KeyValuePair<string, string>("parameters", parameters) } : null;
        using (var writes = plan.BeginWrites())
        {
            GenerationOutputs.StagePng(writes, output, rgba, width, height, 4, text);
            if (p.Flag("--vis")) GenerationOutputs.StagePng(writes, visName, preview, width, height, 3, text);
            writes.Commit();
        }
        Console.WriteLine(output);
        if (p.Flag("--vis")) Console.WriteLine(visName);
        return CommandLine.ExitOk;
    }

    /// <summary>
    /// One image's latent [C, h, w] from tensor `latent` [B, C, h, w]: image <paramref name="index"/>, which may be left
    /// out when B is 1. Any other name or rank, or a missing or out-of-range index, is an error naming the file.
    /// </summary>
    private static (float[] Latent, int Channels, int Height, int Width) ReadLatent(string path, int? index)
    {
        using var file = SafeTensorsFile.Open(path);
        if (!file.Contains(LatentTensor))
            throw new ModelFormatException(path, LatentTensor,
                $"missing (the file holds {string.Join(", ", file.Names.Take(5))}{(file.Names.Count > 5 ? ", ..." : "")}); expected [1, 4, h/8, w/8] as `ld generate --save-latent` writes it");
        var shape = file.Info(LatentTensor).Shape;
        if (shape.Length != 4 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1 || shape[3] < 1)
            throw new ModelFormatException(path, LatentTensor, $"has shape {Tensors.Shape.Format(shape)}, expected [1, 4, h/8, w/8]");
        if (index is null && shape[0] > 1)
            throw new InvalidOptionException("--index", $"{path}: tensor '{LatentTensor}' {Tensors.Shape.Format(shape)} holds {shape[0]} images; pick one with --index 0..{shape[0] - 1}");
        int i = index ?? 0;
        if (i >= shape[0])
            throw new InvalidOptionException("--index", $"{i} is out of range: {path} holds {shape[0]} image(s)");
        int per = shape[1] * shape[2] * shape[3];
        return (file.ReadFinite(LatentTensor)[(i * per)..((i + 1) * per)], shape[1], shape[2], shape[3]);
    }

    /// <summary>
    /// The VAE-decoded image as RGB bytes, and its infotext: opaque, and exactly 8× the latent in each direction.
    /// </summary>
    private static (byte[] Rgb, string? Parameters) ReadRgb(string path, int height, int width, ImageLimits limits)
    {
        // The size is checked from the header, before the pixels are decoded.
        var image = InputImage.Open("--rgb", path, limits);
        if (image.Width != width || image.Height != height)
            throw new InvalidOptionException("--rgb", $"{path}: is {image.Width}x{image.Height}, but the latent is for a {width}x{height} image (8 pixels per latent cell)");
        var png = image.Decode();
        var rgba = png.ToRgba();
        var rgb = new byte[width * height * 3];
        for (int i = 0; i < width * height; i++)
        {
            if (rgba[i * 4 + 3] != 255)
                throw new InvalidOptionException("--rgb", $"{path}: has transparent pixels; pass the opaque image the VAE decoded, not a transparent result");
            for (int c = 0; c < 3; c++) rgb[i * 3 + c] = rgba[i * 4 + c];
        }
        return (rgb, png.GetText("parameters"));
    }

    private static string DecoderPath(ArgParser p)
    {
        if (p.Get("--transparent-decoder") is { } path)
            return File.Exists(path) ? path : throw new InvalidOptionException("--transparent-decoder", $"{path}: file not found") { Kind = ErrorKind.FileAccess };
        if (p.Get("--models-dir") is { } dir)
        {
            string inDir = Path.Combine(dir, LayerMethods.DecoderFileName);
            return File.Exists(inDir) ? inDir : throw new InvalidOptionException("--models-dir", $"{dir}: has no {LayerMethods.DecoderFileName}");
        }
        throw new InvalidOptionException("--transparent-decoder", $"is required ({LayerMethods.DecoderFileName}), or --models-dir");
    }

    private static byte[] VaeDecode(IBackend b, string checkpoint, Tensors.Tensor z)
    {
        using var file = SafeTensorsFile.Open(checkpoint);
        var vae = SdxlVae.Load(b, file);
        using var pixels = vae.Decode(z);
        return ImageBytes.VaePixelsToRgb(b.ToHost(pixels), z.Dim(2) * 8, z.Dim(3) * 8);
    }
}
