namespace LayerDiffusion.Native.Random;

internal static class RandomShape
{
    public static int Count(int[] shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(shape), "negative dimension");
            n *= d;
            if (n > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(shape), "tensor too large");
        }
        return (int)n;
    }
}
