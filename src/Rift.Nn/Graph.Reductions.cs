using System.Numerics.Tensors;

namespace Rift.Nn;

public sealed partial class Graph
{
    /// <summary>Sum of all elements → rank-0 tensor.</summary>
    public Tensor Sum(Tensor x)
    {
        var y = Out([], "sum", x);
        y.Data[0] = TensorPrimitives.Sum(x.Span);
        Record(y, () => TensorPrimitives.Add(G(x), y.Grad![0], G(x)));
        return y;
    }

    /// <summary>Mean of all elements → rank-0 tensor.</summary>
    public Tensor Mean(Tensor x)
    {
        Need(x.Size > 0, $"Mean: empty tensor {x.Describe()}");
        var y = Out([], "mean", x);
        y.Data[0] = TensorPrimitives.Sum(x.Span) / x.Size;
        Record(y, () => TensorPrimitives.Add(G(x), y.Grad![0] / x.Size, G(x)));
        return y;
    }

    /// <summary>Sum along <paramref name="axis"/> (dimension removed, or kept as 1 with <paramref name="keepDim"/>).</summary>
    public Tensor Sum(Tensor x, int axis, bool keepDim = false) => ReduceAxis(x, axis, keepDim, mean: false);

    /// <summary>Mean along <paramref name="axis"/>.</summary>
    public Tensor Mean(Tensor x, int axis, bool keepDim = false) => ReduceAxis(x, axis, keepDim, mean: true);

    private static int[] ReducedShape(Tensor x, int ax, bool keepDim)
    {
        var list = new List<int>(x.Shape);
        if (keepDim) list[ax] = 1;
        else list.RemoveAt(ax);
        return [.. list];
    }

    private Tensor ReduceAxis(Tensor x, int axis, bool keepDim, bool mean)
    {
        int ax = Axis(x, axis, mean ? "Mean" : "Sum");
        var (outer, inner) = Split(x.Shape, ax);
        int n = x.Shape[ax];
        Need(n > 0 || !mean, $"Mean: axis {ax} of {x.Describe()} is empty");
        float scale = mean ? 1f / n : 1f;
        var y = Out(ReducedShape(x, ax, keepDim), mean ? "mean" : "sum", x);
        var xs = x.Span;
        var ys = y.Span;
        ys.Clear();
        for (int o = 0; o < outer; o++)
        {
            var dst = ys.Slice(o * inner, inner);
            if (inner == 1)
            {
                dst[0] = TensorPrimitives.Sum(xs.Slice(o * n, n));
            }
            else
            {
                for (int r = 0; r < n; r++) TensorPrimitives.Add(dst, xs.Slice((o * n + r) * inner, inner), dst);
            }
            if (mean) TensorPrimitives.Multiply(dst, scale, dst);
        }
        Record(y, () =>
        {
            var gx = G(x);
            var gy = GOut(y);
            for (int o = 0; o < outer; o++)
            {
                var src = gy.Slice(o * inner, inner);
                for (int r = 0; r < n; r++)
                {
                    var dst = gx.Slice((o * n + r) * inner, inner);
                    TensorPrimitives.MultiplyAdd(src, scale, dst, dst);
                }
            }
        });
        return y;
    }

    /// <summary>Maximum along <paramref name="axis"/>; the gradient goes to the first maximal element.</summary>
    public Tensor Max(Tensor x, int axis, bool keepDim = false)
    {
        int ax = Axis(x, axis, "Max");
        var (outer, inner) = Split(x.Shape, ax);
        int n = x.Shape[ax];
        Need(n > 0, $"Max: axis {ax} of {x.Describe()} is empty");
        var y = Out(ReducedShape(x, ax, keepDim), "max", x);
        var arg = new int[outer * inner];
        var xs = x.Span;
        var ys = y.Span;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = xs[o * n * inner + i];
                for (int r = 1; r < n; r++)
                {
                    float v = xs[(o * n + r) * inner + i];
                    if (v > bv || float.IsNaN(v)) { bv = v; best = r; }
                }
                ys[o * inner + i] = bv;
                arg[o * inner + i] = best;
            }
        Record(y, () =>
        {
            var gx = G(x);
            var gy = GOut(y);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                    gx[(o * n + arg[o * inner + i]) * inner + i] += gy[o * inner + i];
        });
        return y;
    }

    /// <summary>Maximum of all elements → rank-0 tensor.</summary>
    public Tensor Max(Tensor x)
    {
        Need(x.Size > 0, $"Max: empty tensor {x.Describe()}");
        var y = Out([], "max", x);
        int arg = TensorPrimitives.IndexOfMax(x.Span);
        y.Data[0] = x.Data[arg];
        Record(y, () => G(x)[arg] += y.Grad![0]);
        return y;
    }
}
