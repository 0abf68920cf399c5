using System.Numerics.Tensors;

namespace Rift.Nn;

public sealed partial class Graph
{
    /// <summary>
    /// 2-D convolution (torch nn.functional.conv2d, NCHW): x [N, C, H, W], w [O, C, kh, kw], b [O] or null →
    /// [N, O, Ho, Wo] with Ho = (H + 2·padding − kh)/stride + 1. Lowered to matmul through im2col per sample.
    /// </summary>
    public Tensor Conv2d(Tensor x, Tensor w, Tensor? b, int stride = 1, int padding = 0)
    {
        Need(x.Rank == 4, $"Conv2d: input must be [N, C, H, W], got {x.Describe()}");
        Need(w.Rank == 4, $"Conv2d: weight must be [O, C, kh, kw], got {w.Describe()}");
        Need(x.Shape[1] == w.Shape[1], $"Conv2d: input {Tensor.ShapeString(x.Shape)} has {x.Shape[1]} channels but weight {Tensor.ShapeString(w.Shape)} expects {w.Shape[1]}");
        Need(stride >= 1 && padding >= 0, $"Conv2d: stride {stride} must be ≥ 1 and padding {padding} ≥ 0");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int o = w.Shape[0], kh = w.Shape[2], kw = w.Shape[3];
        Need(b is null || b.Size == o, $"Conv2d: bias {b?.Describe()} must be [{o}]");
        int ho = (h + 2 * padding - kh) / stride + 1, wo = (wd + 2 * padding - kw) / stride + 1;
        Need(h + 2 * padding >= kh && wd + 2 * padding >= kw, $"Conv2d: kernel {kh}×{kw} is larger than padded input {h + 2 * padding}×{wd + 2 * padding}");
        var geo = new ConvLowering.Geometry(c, h, wd, kh, kw, stride, padding, ho, wo);
        int ckk = c * kh * kw, hw = ho * wo;
        bool rg = x.RequiresGrad || w.RequiresGrad || (b?.RequiresGrad ?? false);
        var y = Alloc([n, o, ho, wo], rg, "conv2d");
        var cols = Scratch([ckk, hw]);
        var xs = x.Span;
        var ys = y.Span;
        for (int s = 0; s < n; s++)
        {
            ConvLowering.Im2Col(xs.Slice(s * c * h * wd, c * h * wd), cols.Span, geo);
            var ySample = ys.Slice(s * o * hw, o * hw);
            Gemm.Multiply(false, false, o, hw, ckk, w.Span, ckk, cols.Span, hw, ySample, hw);
            if (b is not null)
                for (int ch = 0; ch < o; ch++)
                {
                    var plane = ySample.Slice(ch * hw, hw);
                    TensorPrimitives.Add(plane, b.Data[ch], plane);
                }
        }
        Record(y, () =>
        {
            var gy = GOut(y);
            var colsB = cols.Span;
            Span<float> dcols = x.RequiresGrad ? Scratch([ckk, hw]).Span : default;
            for (int s = 0; s < n; s++)
            {
                var gys = gy.Slice(s * o * hw, o * hw);
                if (b is not null && b.RequiresGrad)
                {
                    var gb = G(b);
                    for (int ch = 0; ch < o; ch++) gb[ch] += TensorPrimitives.Sum(gys.Slice(ch * hw, hw));
                }
                if (w.RequiresGrad)
                {
                    ConvLowering.Im2Col(x.Span.Slice(s * c * h * wd, c * h * wd), colsB, geo);
                    Gemm.Multiply(false, true, o, ckk, hw, gys, hw, colsB, hw, G(w), ckk, accumulate: true);
                }
                if (x.RequiresGrad)
                {
                    Gemm.Multiply(true, false, ckk, hw, o, w.Span, ckk, gys, hw, dcols, hw);
                    ConvLowering.Col2ImAdd(dcols, G(x).Slice(s * c * h * wd, c * h * wd), geo);
                }
            }
        });
        return y;
    }
}
