namespace Rift.ValueCritic;

/// <summary>
/// Turns an rgb24 frame (rows top-down) into the encoder's input: a CHW float image of side
/// <see cref="Size"/>, area-averaged from the source (a 128×128 frame becomes 64×64 by 2×2 means), each channel
/// mapped from [0, 255] to [−1, 1]. Allocation-free.
/// </summary>
public static class FramePreprocessor
{
    public static void ToChw(Frame frame, int size, Span<float> chw)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ToChw(frame.Rgb, frame.Width, frame.Height, size, chw);
    }

    public static void ToChw(ReadOnlySpan<byte> rgb, int width, int height, int size, Span<float> chw)
    {
        if (chw.Length < 3 * size * size)
            throw new ArgumentException($"Encoder input buffer holds {chw.Length} floats, needs 3x{size}x{size} = {3 * size * size}.", nameof(chw));
        if (rgb.Length != width * height * 3)
            throw new ArgumentException($"Frame buffer has {rgb.Length} bytes, expected {width}x{height}x3.", nameof(rgb));
        var plane = size * size;
        if (width == 2 * size && height == 2 * size)
        {
            // Fast path: exact 2×2 box filter (the 128→64 case).
            const float scale = 1f / (4 * 127.5f);
            var stride = width * 3;
            for (var y = 0; y < size; y++)
            {
                var r0 = rgb.Slice(2 * y * stride, stride);
                var r1 = rgb.Slice((2 * y + 1) * stride, stride);
                var o = y * size;
                for (var x = 0; x < size; x++)
                {
                    var i = 6 * x;
                    chw[o + x] = (r0[i] + r0[i + 3] + r1[i] + r1[i + 3]) * scale - 1f;
                    chw[plane + o + x] = (r0[i + 1] + r0[i + 4] + r1[i + 1] + r1[i + 4]) * scale - 1f;
                    chw[2 * plane + o + x] = (r0[i + 2] + r0[i + 5] + r1[i + 2] + r1[i + 5]) * scale - 1f;
                }
            }
            return;
        }
        // General path: box filter over each output pixel's source rectangle.
        for (var y = 0; y < size; y++)
        {
            int y0 = y * height / size, y1 = Math.Max(y0 + 1, (y + 1) * height / size);
            for (var x = 0; x < size; x++)
            {
                int x0 = x * width / size, x1 = Math.Max(x0 + 1, (x + 1) * width / size);
                float r = 0, g = 0, b = 0;
                for (var yy = y0; yy < y1; yy++)
                    for (var xx = x0; xx < x1; xx++)
                    {
                        var i = (yy * width + xx) * 3;
                        r += rgb[i];
                        g += rgb[i + 1];
                        b += rgb[i + 2];
                    }
                var s = 1f / ((y1 - y0) * (x1 - x0) * 127.5f);
                chw[y * size + x] = r * s - 1f;
                chw[plane + y * size + x] = g * s - 1f;
                chw[2 * plane + y * size + x] = b * s - 1f;
            }
        }
    }
}
