using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Rift.Nn;

public sealed partial class Graph
{
    /// <summary>
    /// y = x·Wᵀ + b (torch nn.Linear layout): x [..., in], W [out, in], b [out] or null → y [..., out].
    /// <paramref name="act"/> fuses an activation (same result as calling it separately).
    /// </summary>
    public Tensor Linear(Tensor x, Tensor w, Tensor? b, Activation act = Activation.None)
    {
        Need(w.Rank == 2, $"Linear: weight must be [out, in], got {w.Describe()}");
        int outF = w.Shape[0], inF = w.Shape[1];
        Need(x.Rank >= 1 && x.Shape[^1] == inF, $"Linear: input {x.Describe()} does not match weight {w.Describe()} (last dim must be {inF})");
        Need(b is null || (b.Size == outF && b.Rank == 1), $"Linear: bias {b?.Describe()} must be [{outF}] for weight {w.Describe()}");
        int m = x.Size / Math.Max(inF, 1);
        var shape = (int[])x.Shape.Clone();
        shape[^1] = outF;
        bool rg = x.RequiresGrad || w.RequiresGrad || (b?.RequiresGrad ?? false);
        var y = Alloc(shape, rg, "linear");
        Gemm.Multiply(false, true, m, outF, inF, x.Span, inF, w.Span, inF, y.Span, outF);
        var ys = y.Span;
        if (b is not null)
        {
            var bs = b.Span;
            for (int r = 0; r < m; r++)
            {
                var row = ys.Slice(r * outF, outF);
                TensorPrimitives.Add(row, bs, row);
            }
        }
        if (act == Activation.Relu) ReluForward(ys, ys);
        else if (act != Activation.None)
        {
            var pre = y;
            Record(pre, () => LinearBackward(x, w, b, pre, m, inF, outF));
            return Activate(pre, act);
        }
        Record(y, () =>
        {
            if (act == Activation.Relu)
            {
                // Turn dL/dy into dL/d(pre-activation) in place: y > 0 exactly where pre > 0.
                MaskByPositive(y.Span, y.Grad.AsSpan(0, y.Size));
            }
            LinearBackward(x, w, b, y, m, inF, outF);
        });
        return y;
    }

    // g[i] = y[i] > 0 ? g[i] : 0, branch-free (ReLU outputs are ~50% zero, so branches mispredict).
    internal static void MaskByPositive(ReadOnlySpan<float> y, Span<float> g)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= g.Length; i += 16)
            {
                var m = Vector512.GreaterThan(Vector512.Create(y.Slice(i, 16)), Vector512<float>.Zero);
                (Vector512.Create(g.Slice(i, 16)) & m).CopyTo(g.Slice(i, 16));
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= g.Length; i += 8)
            {
                var m = Vector256.GreaterThan(Vector256.Create(y.Slice(i, 8)), Vector256<float>.Zero);
                (Vector256.Create(g.Slice(i, 8)) & m).CopyTo(g.Slice(i, 8));
            }
        for (; i < g.Length; i++) if (!(y[i] > 0f)) g[i] = 0f;
    }

    private static void LinearBackward(Tensor x, Tensor w, Tensor? b, Tensor y, int m, int inF, int outF)
    {
        var gy = GOut(y);
        if (x.RequiresGrad)
            Gemm.Multiply(false, false, m, inF, outF, gy, outF, w.Span, inF, G(x), inF, accumulate: true);
        if (w.RequiresGrad)
            Gemm.Multiply(true, false, outF, inF, m, gy, outF, x.Span, inF, G(w), inF, accumulate: true);
        if (b is not null && b.RequiresGrad)
        {
            var gb = G(b);
            for (int r = 0; r < m; r++) TensorPrimitives.Add(gb, gy.Slice(r * outF, outF), gb);
        }
    }

    /// <summary>Matrix product of 2-D tensors: [m, k]·[k, n] → [m, n].</summary>
    public Tensor MatMul(Tensor a, Tensor b)
    {
        Need(a.Rank == 2 && b.Rank == 2 && a.Shape[1] == b.Shape[0],
            $"MatMul: shapes {Tensor.ShapeString(a.Shape)} and {Tensor.ShapeString(b.Shape)} are not [m, k]·[k, n]");
        int m = a.Shape[0], k = a.Shape[1], n = b.Shape[1];
        var y = Out([m, n], "matmul", a, b);
        Gemm.Multiply(false, false, m, n, k, a.Span, k, b.Span, n, y.Span, n);
        Record(y, () =>
        {
            var gy = GOut(y);
            if (a.RequiresGrad) Gemm.Multiply(false, true, m, k, n, gy, n, b.Span, n, G(a), k, accumulate: true);
            if (b.RequiresGrad) Gemm.Multiply(true, false, k, n, m, a.Span, k, gy, n, G(b), n, accumulate: true);
        });
        return y;
    }

    /// <summary>
    /// Layer normalisation over the last dimension (torch nn.LayerNorm): (x − mean)/√(var + eps)·γ + β with the
    /// biased variance. γ, β are [D] or null.
    /// </summary>
    public Tensor LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, float eps = 1e-5f)
    {
        Need(x.Rank >= 1, $"LayerNorm: input must have at least one dimension, got {x.Describe()}");
        int d = x.Shape[^1];
        Need(gamma is null || gamma.Size == d, $"LayerNorm: gamma {gamma?.Describe()} does not match last dim of {x.Describe()}");
        Need(beta is null || beta.Size == d, $"LayerNorm: beta {beta?.Describe()} does not match last dim of {x.Describe()}");
        int rows = x.Size / Math.Max(d, 1);
        bool rg = x.RequiresGrad || (gamma?.RequiresGrad ?? false) || (beta?.RequiresGrad ?? false);
        var y = Alloc(x.Shape, rg, "layer_norm");
        var xhatT = Scratch([rows, d]);
        var rstdT = Scratch([rows]);
        var xs = x.Span;
        var ys = y.Span;
        var xh = xhatT.Span;
        var rs = rstdT.Span;
        for (int r = 0; r < rows; r++)
        {
            var row = xs.Slice(r * d, d);
            float mean = TensorPrimitives.Sum(row) / d;
            var hrow = xh.Slice(r * d, d);
            TensorPrimitives.Subtract(row, mean, hrow);
            float var = TensorPrimitives.SumOfSquares(hrow) / d;
            float rstd = 1f / MathF.Sqrt(var + eps);
            rs[r] = rstd;
            TensorPrimitives.Multiply(hrow, rstd, hrow);
            var yrow = ys.Slice(r * d, d);
            if (gamma is not null) TensorPrimitives.Multiply(hrow, gamma.Span, yrow);
            else hrow.CopyTo(yrow);
            if (beta is not null) TensorPrimitives.Add(yrow, beta.Span, yrow);
        }
        Record(y, () =>
        {
            var gy = GOut(y);
            var xh2 = xhatT.Span;
            if (gamma is not null && gamma.RequiresGrad)
            {
                var gg = G(gamma);
                for (int r = 0; r < rows; r++) TensorPrimitives.MultiplyAdd(gy.Slice(r * d, d), xh2.Slice(r * d, d), gg, gg);
            }
            if (beta is not null && beta.RequiresGrad)
            {
                var gb = G(beta);
                for (int r = 0; r < rows; r++) TensorPrimitives.Add(gb, gy.Slice(r * d, d), gb);
            }
            if (!x.RequiresGrad) return;
            var gx = G(x);
            Span<float> dxh = d <= 1024 ? stackalloc float[d] : new float[d];
            var rsv = rstdT.Span;
            for (int r = 0; r < rows; r++)
            {
                var gyr = gy.Slice(r * d, d);
                var hr = xh2.Slice(r * d, d);
                if (gamma is not null) TensorPrimitives.Multiply(gyr, gamma.Span, dxh);
                else gyr.CopyTo(dxh);
                float m1 = TensorPrimitives.Sum(dxh) / d;
                float m2 = TensorPrimitives.Dot(dxh, hr) / d;
                var gxr = gx.Slice(r * d, d);
                float rstd = rsv[r];
                for (int i = 0; i < d; i++) gxr[i] += rstd * (dxh[i] - m1 - hr[i] * m2);
            }
        });
        return y;
    }
}
