using Rift.Nn;
using static Rift.Nn.Tests.GradCheck;

namespace Rift.Nn.Tests;

public class OpGradientTests
{
    private static double[] Linear(double[] x, double[] w, double[]? b, int m, int inF, int outF)
    {
        var y = new double[m * outF];
        for (int i = 0; i < m; i++)
            for (int o = 0; o < outF; o++)
            {
                double s = b?[o] ?? 0;
                for (int k = 0; k < inF; k++) s += x[i * inF + k] * w[o * inF + k];
                y[i * outF + o] = s;
            }
        return y;
    }

    [Fact]
    public void Linear_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.Linear(t[0], t[1], t[2]),
            x => Linear(x[0], x[1], x[2], 5, 7, 3),
            [new([5, 7]), new([3, 7]), new([3])]);

    [Fact]
    public void LinearFusedRelu_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.Linear(t[0], t[1], t[2], Activation.Relu),
            x => Map(Linear(x[0], x[1], x[2], 6, 4, 9), v => Math.Max(v, 0)),
            [new([6, 4]), new([9, 4]), new([9])], seed: 3);

    [Fact]
    public void LinearFusedTanh_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.Linear(t[0], t[1], t[2], Activation.Tanh),
            x => Map(Linear(x[0], x[1], x[2], 3, 4, 2), Math.Tanh),
            [new([3, 4]), new([2, 4]), new([2])]);

    [Fact]
    public void MatMul_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.MatMul(t[0], t[1]),
            x => Linear(x[0], Transpose(x[1], 4, 3), null, 2, 4, 3),
            [new([2, 4]), new([4, 3])]);

    private static double[] Transpose(double[] a, int r, int c)
    {
        var t = new double[a.Length];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) t[j * r + i] = a[i * c + j];
        return t;
    }

    [Fact]
    public void LayerNorm_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.LayerNorm(t[0], t[1], t[2]),
            x =>
            {
                int rows = 4, d = 6;
                var y = new double[rows * d];
                for (int r = 0; r < rows; r++)
                {
                    double mean = 0, var = 0;
                    for (int i = 0; i < d; i++) mean += x[0][r * d + i];
                    mean /= d;
                    for (int i = 0; i < d; i++) var += Math.Pow(x[0][r * d + i] - mean, 2);
                    var /= d;
                    for (int i = 0; i < d; i++) y[r * d + i] = (x[0][r * d + i] - mean) / Math.Sqrt(var + 1e-5) * x[1][i] + x[2][i];
                }
                return y;
            },
            [new([4, 6]), new([6], 0.5f, 1.5f), new([6])], rtol: 5e-3, atol: 5e-4);

    public static TheoryData<string> Unary => ["relu", "tanh", "gelu", "sigmoid", "softplus", "exp", "log", "sqrt", "abs", "square", "neg", "probit", "atanh", "clamp", "pow", "scale", "add_scalar", "rsub"];

    [Theory]
    [MemberData(nameof(Unary))]
    public void UnaryOp_Gradients_MatchFiniteDifferences(string op)
    {
        Func<Graph, Tensor, Tensor> f = op switch
        {
            "relu" => (g, x) => g.Relu(x),
            "tanh" => (g, x) => g.Tanh(x),
            "gelu" => (g, x) => g.Gelu(x),
            "sigmoid" => (g, x) => g.Sigmoid(x),
            "softplus" => (g, x) => g.Softplus(x),
            "exp" => (g, x) => g.Exp(x),
            "log" => (g, x) => g.Log(x),
            "sqrt" => (g, x) => g.Sqrt(x),
            "abs" => (g, x) => g.Abs(x),
            "square" => (g, x) => g.Square(x),
            "neg" => (g, x) => g.Neg(x),
            "probit" => (g, x) => g.Probit(x),
            "atanh" => (g, x) => g.Atanh(x),
            "clamp" => (g, x) => g.Clamp(x, -0.5f, 0.7f),
            "pow" => (g, x) => g.Pow(x, 2.5f),
            "scale" => (g, x) => g.Scale(x, -1.7f),
            "add_scalar" => (g, x) => g.AddScalar(x, 0.3f),
            _ => (g, x) => g.RSub(2f, x),
        };
        Func<double, double> r = op switch
        {
            "relu" => v => Math.Max(v, 0),
            "tanh" => Math.Tanh,
            "gelu" => v => v * Phi(v),
            "sigmoid" => v => 1 / (1 + Math.Exp(-v)),
            "softplus" => v => Math.Log(1 + Math.Exp(v)),
            "exp" => Math.Exp,
            "log" => Math.Log,
            "sqrt" => Math.Sqrt,
            "abs" => Math.Abs,
            "square" => v => v * v,
            "neg" => v => -v,
            "probit" => Phi,
            "atanh" => Math.Atanh,
            "clamp" => v => Math.Clamp(v, -0.5, 0.7),
            "pow" => v => Math.Pow(v, 2.5),
            "scale" => v => -1.7 * v,
            "add_scalar" => v => v + 0.3,
            _ => v => 2 - v,
        };
        var input = op switch
        {
            "log" or "sqrt" or "pow" => new Input([3, 5], 0.2f, 2f),
            "atanh" => new Input([3, 5], -0.9f, 0.9f),
            "relu" or "abs" => new Input([3, 5], Fix: Away()),
            "clamp" => new Input([3, 5], Fix: v => Away(0.7f)(Away(-0.5f)(v))),
            _ => new Input([3, 5], -2f, 2f),
        };
        Run((g, t) => f(g, t[0]), x => Map(x[0], r), [input]);
    }

    public static TheoryData<string, int[], int[]> Binary => new()
    {
        { "add", [3, 4], [3, 4] }, { "sub", [3, 4], [4] }, { "mul", [3, 4], [3, 1] }, { "div", [3, 4], [] },
        { "min", [3, 4], [3, 4] }, { "max", [3, 4], [3, 4] }, { "sub", [4], [3, 4] }, { "mul", [1], [2, 3] },
        { "div", [3, 1], [3, 4] }, { "min", [3, 1], [3, 1] }, { "add", [2, 3, 4], [3, 4] },
    };

    [Theory]
    [MemberData(nameof(Binary))]
    public void BinaryOp_Gradients_MatchFiniteDifferences(string op, int[] sa, int[] sb)
    {
        Func<Graph, Tensor, Tensor, Tensor> f = op switch
        {
            "add" => (g, a, b) => g.Add(a, b),
            "sub" => (g, a, b) => g.Sub(a, b),
            "mul" => (g, a, b) => g.Mul(a, b),
            "div" => (g, a, b) => g.Div(a, b),
            "min" => (g, a, b) => g.Minimum(a, b),
            _ => (g, a, b) => g.Maximum(a, b),
        };
        Func<double, double, double> r = op switch
        {
            "add" => (a, b) => a + b,
            "sub" => (a, b) => a - b,
            "mul" => (a, b) => a * b,
            "div" => (a, b) => a / b,
            "min" => Math.Min,
            _ => Math.Max,
        };
        int sizeA = sa.Aggregate(1, (p, d) => p * d), sizeB = sb.Aggregate(1, (p, d) => p * d);
        var outShape = sizeA >= sizeB ? sa : sb;
        int n = outShape.Aggregate(1, (p, d) => p * d);
        int inner = outShape[^1];
        int Index(int[] s, int size, int i) =>
            size == n ? i : size == 1 ? 0 : s.Length == outShape.Length && s[^1] == 1 ? i / inner : i % size;
        // Min/max: keep the operands apart so the finite difference does not straddle a tie.
        var ib = op is "min" or "max" ? new Input(sb, 0.3f, 1.5f) : op == "div" ? new Input(sb, 0.5f, 2f) : new Input(sb);
        var ia = op is "min" or "max" ? new Input(sa, -1.5f, 1.5f, v => v >= 0 ? v + 1.6f : v) : new Input(sa);
        Run((g, t) => f(g, t[0], t[1]), x =>
        {
            var y = new double[n];
            for (int i = 0; i < n; i++) y[i] = r(x[0][Index(sa, sizeA, i)], x[1][Index(sb, sizeB, i)]);
            return y;
        }, [ia, ib], seed: 5);
    }

    [Fact]
    public void MinMax_Ties_SplitGradientLikeTorch()
    {
        var g = new Graph();
        var a = new Tensor([2], [1f, 2f], true);
        var b = new Tensor([2], [1f, 3f], true);
        g.Backward(g.Sum(g.Minimum(a, b)));
        Assert.Equal([0.5f, 1f], a.Grad!);
        Assert.Equal([0.5f, 0f], b.Grad!);
    }

    [Fact]
    public void Concat_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.Concat(t[0], t[1]),
            x =>
            {
                var y = new List<double>();
                for (int r = 0; r < 3; r++) { y.AddRange(x[0].Skip(r * 2).Take(2)); y.AddRange(x[1].Skip(r * 4).Take(4)); }
                return [.. y];
            },
            [new([3, 2]), new([3, 4])]);

    [Fact]
    public void ConcatAxis0_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.Concat(0, t[0], t[1]), x => [.. x[0], .. x[1]], [new([2, 3]), new([1, 3])]);

    [Fact]
    public void Slice_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.Slice(t[0], 1, 1, 2),
            x => Enumerable.Range(0, 3).SelectMany(r => x[0].Skip(r * 5 + 1).Take(2)).ToArray(),
            [new([3, 5])]);

    [Fact]
    public void Reshape_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.Reshape(t[0], -1, 2), x => x[0], [new([3, 4])]);

    [Fact]
    public void SumMeanAll_Gradients_MatchFiniteDifferences()
    {
        Run((g, t) => g.Sum(t[0]), x => [x[0].Sum()], [new([3, 4])]);
        Run((g, t) => g.Mean(t[0]), x => [x[0].Average()], [new([3, 4])]);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(-1, false)]
    public void SumMeanAxis_Gradients_MatchFiniteDifferences(int axis, bool keep)
    {
        int rows = 3, cols = 4;
        double[] Reduce(double[] x, bool mean)
        {
            int ax = axis < 0 ? 1 : axis;
            var y = new double[ax == 0 ? cols : rows];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) y[ax == 0 ? c : r] += x[r * cols + c];
            return mean ? Map(y, v => v / (ax == 0 ? rows : cols)) : y;
        }
        Run((g, t) => g.Sum(t[0], axis, keep), x => Reduce(x[0], false), [new([rows, cols])]);
        Run((g, t) => g.Mean(t[0], axis, keep), x => Reduce(x[0], true), [new([rows, cols])]);
    }

    [Fact]
    public void Max_Gradients_MatchFiniteDifferences()
    {
        // Distinct values so the arg-max is stable under the finite-difference step.
        var values = Enumerable.Range(0, 12).Select(i => (float)((i * 7) % 12) * 0.25f - 1f).ToArray();
        Run((g, t) => g.Max(t[0], -1), x => Enumerable.Range(0, 3).Select(r => x[0].Skip(r * 4).Take(4).Max()).ToArray(),
            [new([3, 4], Values: values)]);
        Run((g, t) => g.Max(t[0]), x => [x[0].Max()], [new([3, 4], Values: values)]);
    }

    [Fact]
    public void MseLoss_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.MseLoss(t[0], t[1]),
            x => [x[0].Zip(x[1], (p, q) => (p - q) * (p - q)).Average()], [new([4, 3]), new([4, 3])]);

    [Fact]
    public void HuberLoss_Gradients_MatchFiniteDifferences()
    {
        var pred = new float[] { -2f, -0.3f, 0.1f, 0.4f, 1.8f, 3f };
        Run((g, t) => g.HuberLoss(t[0], t[1], 0.8f),
            x => [x[0].Zip(x[1], (p, q) => { double d = p - q; return Math.Abs(d) < 0.8 ? 0.5 * d * d : 0.8 * (Math.Abs(d) - 0.4); }).Average()],
            [new([6], Values: pred), new([6], Values: new float[6])]);
    }

    [Fact]
    public void BceWithLogits_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.BceWithLogits(t[0], t[1]),
            x => [x[0].Zip(x[1], (z, y) => -(y * Math.Log(1 / (1 + Math.Exp(-z))) + (1 - y) * Math.Log(1 - 1 / (1 + Math.Exp(-z))))).Average()],
            [new([5, 2], -3f, 3f), new([5, 2], 0f, 1f)]);

    [Fact]
    public void FocalLoss_Gradients_MatchFiniteDifferences()
    {
        var targets = new float[] { 0, 1, 1, 0, 1, 0, 0, 1 };
        Run((g, t) => g.FocalLoss(t[0], t[1], 0.75f, 2f),
            x => [x[0].Zip(x[1], (z, y) =>
            {
                double p = 1 / (1 + Math.Exp(-z));
                double ce = -(y * Math.Log(p) + (1 - y) * Math.Log(1 - p));
                double pt = p * y + (1 - p) * (1 - y);
                double at = 0.75 * y + 0.25 * (1 - y);
                return at * ce * Math.Pow(1 - pt, 2);
            }).Average()],
            [new([8], -3f, 3f), new([8], Values: targets)], differentiable: [true, false]);
    }

    [Fact]
    public void NormalLogProb_Gradients_MatchFiniteDifferences() =>
        Run((g, t) => g.NormalLogProb(t[0], t[1], t[2]),
            x => Enumerable.Range(0, 6).Select(i =>
            {
                double s = Math.Exp(x[2][i % 3]);
                double z = (x[0][i] - x[1][i]) / s;
                return -0.5 * z * z - Math.Log(s) - 0.5 * Math.Log(2 * Math.PI);
            }).ToArray(),
            [new([2, 3]), new([2, 3]), new([3], -1f, 0.5f)]);

    private static double TanhLogProb(double u, double mu, double logStd)
    {
        double s = Math.Exp(logStd);
        double z = (u - mu) / s;
        return -0.5 * z * z - logStd - 0.5 * Math.Log(2 * Math.PI) - Math.Log(1 - Math.Tanh(u) * Math.Tanh(u));
    }

    [Fact]
    public void SampleTanhNormal_LogProbGradients_MatchFiniteDifferences()
    {
        // Inputs: mu [2,3], logStd [2,3], noise [2,3] (constant). Output: logProb [2,1].
        Run((g, t) => g.SampleTanhNormal(t[0], t[1], t[2]).logProb,
            x => Enumerable.Range(0, 2).Select(r => Enumerable.Range(0, 3).Sum(c =>
            {
                int i = r * 3 + c;
                double u = x[0][i] + Math.Exp(x[1][i]) * x[2][i];
                return TanhLogProb(u, x[0][i], x[1][i]);
            })).ToArray(),
            [new([2, 3]), new([2, 3], -1f, 0.3f), new([2, 3])], differentiable: [true, true, false]);
    }

    [Fact]
    public void SampleTanhNormal_ActionGradients_MatchFiniteDifferences() =>
        Run((g, t) => g.SampleTanhNormal(t[0], t[1], t[2]).action,
            x => Enumerable.Range(0, 6).Select(i => Math.Tanh(x[0][i] + Math.Exp(x[1][i]) * x[2][i])).ToArray(),
            [new([2, 3]), new([2, 3], -1f, 0.3f), new([2, 3])], differentiable: [true, true, false]);

    [Fact]
    public void TanhNormalLogProb_OfGivenAction_MatchesFiniteDifferences() =>
        Run((g, t) => g.TanhNormalLogProb(t[0], t[1], t[2]),
            x => Enumerable.Range(0, 2).Select(r => Enumerable.Range(0, 2).Sum(c =>
            {
                int i = r * 2 + c;
                return TanhLogProb(Math.Atanh(x[0][i]), x[1][i], x[2][c]);
            })).ToArray(),
            [new([2, 2], -0.9f, 0.9f), new([2, 2]), new([2], -1f, 0.3f)]);

    [Fact]
    public void TanhCorrection_LargePreTanh_StaysFinite()
    {
        var g = new Graph();
        var mu = new Tensor([1, 2], [30f, -30f], true);
        var logStd = new Tensor([1, 2], [-2f, -2f], true);
        var noise = new Tensor([1, 2], [0.5f, -0.5f]);
        var (a, lp) = g.SampleTanhNormal(mu, logStd, noise);
        g.Backward(g.Sum(lp));
        Assert.True(float.IsFinite(lp.Item()));
        Assert.All(mu.Grad!, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1f, a[0], 5);
    }
}

public class ExtraLossTests
{
    [Fact]
    public void L1Loss_Gradients_MatchFiniteDifferences() =>
        GradCheck.Run((g, t) => g.L1Loss(t[0], t[1]),
            x => [x[0].Zip(x[1], (p, q) => Math.Abs(p - q)).Average()],
            [new([6], Values: [-2f, -0.5f, 0.3f, 1f, 2f, 0.7f]), new([6], Values: [0f, 0f, 0f, 0f, 0f, 0f])]);

    [Fact]
    public void BceLoss_Gradients_MatchFiniteDifferences() =>
        GradCheck.Run((g, t) => g.BceLoss(t[0], t[1]),
            x => [x[0].Zip(x[1], (p, y) => -(y * Math.Log(p) + (1 - y) * Math.Log(1 - p))).Average()],
            [new([5], 0.05f, 0.95f), new([5], 0f, 1f)], rtol: 5e-3);

    [Fact]
    public void BceLoss_ProbabilityOne_StaysFinite()
    {
        var g = new Graph();
        var loss = g.BceLoss(new Tensor([2], [1f, 0f]), new Tensor([2], [0f, 1f]));
        Assert.Equal(100f, loss.Item(), 3);
    }

    [Fact]
    public void LogSoftmax_Gradients_MatchFiniteDifferences() =>
        GradCheck.Run((g, t) => g.LogSoftmax(t[0]),
            x => Enumerable.Range(0, 3).SelectMany(r =>
            {
                var row = x[0].Skip(r * 4).Take(4).ToArray();
                double lse = Math.Log(row.Sum(Math.Exp));
                return row.Select(v => v - lse);
            }).ToArray(),
            [new([3, 4], -3f, 3f)]);
}
