using Rift.Nn;

namespace Rift.Nn.Tests;

/// <summary>
/// Checks an op's float32 autodiff gradient against central finite differences of a float64 reference
/// implementation of the same function, and its forward value against that reference.
/// </summary>
internal static class GradCheck
{
    public sealed record Input(int[] Shape, float Lo = -1.5f, float Hi = 1.5f, Func<float, float>? Fix = null, float[]? Values = null);

    public static void Run(
        Func<Graph, Tensor[], Tensor> f32,
        Func<double[][], double[]> f64,
        Input[] inputs,
        int seed = 1,
        double rtol = 2e-3,
        double atol = 2e-4,
        bool[]? differentiable = null)
    {
        var rng = new Rng(seed);
        var tensors = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var inp = inputs[i];
            bool diff = differentiable?[i] ?? true;
            var t = new Tensor(inp.Shape, null, diff, $"in{i}");
            if (inp.Values is not null) inp.Values.CopyTo(t.Data, 0);
            else
                for (int j = 0; j < t.Size; j++)
                {
                    float v = rng.Uniform(inp.Lo, inp.Hi);
                    t.Data[j] = inp.Fix is null ? v : inp.Fix(v);
                }
            tensors[i] = t;
        }
        var g = new Graph();
        var y = f32(g, tensors);
        var w = new Tensor(y.Shape);
        rng.FillUniform(w.Span, -1f, 1f);
        var loss = g.Sum(g.Mul(y, w));
        g.Backward(loss);

        var xs = tensors.Select(t => t.ToArray().Select(v => (double)v).ToArray()).ToArray();
        var yRef = f64(xs);
        Assert.Equal(y.Size, yRef.Length);
        for (int i = 0; i < yRef.Length; i++)
            Assert.True(Math.Abs(y.Data[i] - yRef[i]) <= 1e-4 + 1e-4 * Math.Abs(yRef[i]),
                $"forward[{i}]: float32 {y.Data[i]} vs float64 {yRef[i]}");

        var wd = w.ToArray().Select(v => (double)v).ToArray();
        double L(double[][] x)
        {
            var o = f64(x);
            double s = 0;
            for (int i = 0; i < o.Length; i++) s += o[i] * wd[i];
            return s;
        }

        for (int i = 0; i < tensors.Length; i++)
        {
            if (!(differentiable?[i] ?? true)) continue;
            var grad = tensors[i].Grad!;
            for (int j = 0; j < tensors[i].Size; j++)
            {
                double orig = xs[i][j];
                double h = 1e-6 * Math.Max(1.0, Math.Abs(orig));
                xs[i][j] = orig + h;
                double lp = L(xs);
                xs[i][j] = orig - h;
                double lm = L(xs);
                xs[i][j] = orig;
                double fd = (lp - lm) / (2 * h);
                Assert.True(Math.Abs(grad[j] - fd) <= atol + rtol * Math.Abs(fd),
                    $"input {i} element {j}: autodiff {grad[j]} vs finite difference {fd}");
            }
        }
    }

    /// <summary>Moves values at least <paramref name="gap"/> away from <paramref name="kink"/>.</summary>
    public static Func<float, float> Away(float kink = 0f, float gap = 0.05f) =>
        v => Math.Abs(v - kink) < gap ? kink + (v >= kink ? gap : -gap) : v;

    public static double[] Map(double[] x, Func<double, double> f) => x.Select(f).ToArray();

    public static double Erf(double x)
    {
        // Maclaurin series in double (|x| ≤ 3 in tests), accurate to ~1e-14.
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            double t = term / (2 * n + 1);
            sum += t;
            if (Math.Abs(t) < 1e-17) break;
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    public static double Phi(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));
}
