namespace LayerDiffusion.Native.Imaging;

/// <summary>A float image in interleaved HWC order (what numpy/OpenCV code holds), 1 to 4 channels.</summary>
public sealed class FloatImage
{
    public FloatImage(int width, int height, int channels, float[] data)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"bad image size {width}x{height}");
        if (channels is < 1 or > 4) throw new ArgumentException($"{channels} channels (1 to 4 supported)");
        if (data.Length != (long)width * height * channels)
            throw new ArgumentException($"{data.Length} values for a {width}x{height} image of {channels} channels");
        Width = width;
        Height = height;
        Channels = channels;
        Data = data;
    }

    public FloatImage(int width, int height, int channels) : this(width, height, channels, new float[checked(width * height * channels)]) { }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public float[] Data { get; }

    public float this[int y, int x, int c]
    {
        get => Data[(y * Width + x) * Channels + c];
        set => Data[(y * Width + x) * Channels + c] = value;
    }

    /// <summary>Planar [C, H, W] copy (the layout tensors use).</summary>
    public float[] ToPlanar()
    {
        int plane = Width * Height;
        var chw = new float[Data.Length];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < Channels; c++)
                chw[c * plane + i] = Data[i * Channels + c];
        return chw;
    }

    public FloatImage Clone() => new(Width, Height, Channels, (float[])Data.Clone());
}
