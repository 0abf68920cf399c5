namespace Rift.Nn;

/// <summary>
/// The im2col lowering of a 2-D convolution to a matrix product (used by <see cref="Graph.Conv2d"/> and by
/// hand-differentiated conv stacks such as Rift.ValueCritic's encoder). One image's channels may be strided
/// (<c>channelStride</c>, default H·W) and the column rows may be strided (<c>rowStride</c>, default Ho·Wo), so a batch
/// stored channel-major ([C, B, H, W] with cols [C·kh·kw, B·Ho·Wo]) is lowered one image at a time in place.
/// </summary>
public static class ConvLowering
{
    /// <summary>Input C×H×W, kernel kh×kw, stride, padding, output Ho×Wo.</summary>
    public readonly record struct Geometry(int C, int H, int W, int Kh, int Kw, int Stride, int Pad, int Ho, int Wo);

    /// <summary>cols[(ci·kh + ki)·kw + kj, oy·wo + ox] = x[ci, oy·s − p + ki, ox·s − p + kj] (0 outside).</summary>
    public static void Im2Col(ReadOnlySpan<float> x, Span<float> cols, in Geometry g, int channelStride = 0, int rowStride = 0)
    {
        int hw = g.Ho * g.Wo;
        if (channelStride == 0) channelStride = g.H * g.W;
        if (rowStride == 0) rowStride = hw;
        for (int ci = 0; ci < g.C; ci++)
            for (int ki = 0; ki < g.Kh; ki++)
                for (int kj = 0; kj < g.Kw; kj++)
                {
                    var row = cols.Slice(((ci * g.Kh + ki) * g.Kw + kj) * rowStride, hw);
                    var (oxLo, oxHi) = InsideColumns(g, kj);
                    for (int oy = 0; oy < g.Ho; oy++)
                    {
                        var dst = row.Slice(oy * g.Wo, g.Wo);
                        int iy = oy * g.Stride - g.Pad + ki;
                        if (iy < 0 || iy >= g.H || oxLo >= oxHi)
                        {
                            dst.Clear();
                            continue;
                        }
                        var src = x.Slice(ci * channelStride + iy * g.W, g.W);
                        dst[..oxLo].Clear();
                        int ix = oxLo * g.Stride - g.Pad + kj;
                        if (g.Stride == 1) src.Slice(ix, oxHi - oxLo).CopyTo(dst[oxLo..oxHi]);
                        else
                            for (int ox = oxLo; ox < oxHi; ox++, ix += g.Stride) dst[ox] = src[ix];
                        dst[oxHi..].Clear();
                    }
                }
    }

    /// <summary>Adds cols back onto the image gradient dx (the adjoint of <see cref="Im2Col"/>).</summary>
    public static void Col2ImAdd(ReadOnlySpan<float> cols, Span<float> dx, in Geometry g, int channelStride = 0, int rowStride = 0)
    {
        int hw = g.Ho * g.Wo;
        if (channelStride == 0) channelStride = g.H * g.W;
        if (rowStride == 0) rowStride = hw;
        for (int ci = 0; ci < g.C; ci++)
            for (int ki = 0; ki < g.Kh; ki++)
                for (int kj = 0; kj < g.Kw; kj++)
                {
                    var row = cols.Slice(((ci * g.Kh + ki) * g.Kw + kj) * rowStride, hw);
                    var (oxLo, oxHi) = InsideColumns(g, kj);
                    for (int oy = 0; oy < g.Ho; oy++)
                    {
                        int iy = oy * g.Stride - g.Pad + ki;
                        if (iy < 0 || iy >= g.H) continue;
                        var dst = dx.Slice(ci * channelStride + iy * g.W, g.W);
                        var src = row.Slice(oy * g.Wo, g.Wo);
                        int ix = oxLo * g.Stride - g.Pad + kj;
                        for (int ox = oxLo; ox < oxHi; ox++, ix += g.Stride) dst[ix] += src[ox];
                    }
                }
    }

    /// <summary>The output columns [lo, hi) whose input column for kernel column <paramref name="kj"/> lies inside the image.</summary>
    private static (int Lo, int Hi) InsideColumns(in Geometry g, int kj) =>
        (Math.Max(0, (g.Pad - kj + g.Stride - 1) / g.Stride), Math.Min(g.Wo, (g.W + g.Pad - kj + g.Stride - 1) / g.Stride));
}
