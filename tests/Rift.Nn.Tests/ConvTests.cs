using Rift.Nn;
using static Rift.Nn.Tests.GradCheck;

namespace Rift.Nn.Tests;

public class ConvTests
{
    private static double[] Conv(double[] x, double[] w, double[]? b, int n, int c, int h, int wd, int o, int k, int s, int p)
    {
        int ho = (h + 2 * p - k) / s + 1, wo = (wd + 2 * p - k) / s + 1;
        var y = new double[n * o * ho * wo];
        for (int i = 0; i < n; i++)
            for (int oc = 0; oc < o; oc++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++)
                    {
                        double acc = b?[oc] ?? 0;
                        for (int ci = 0; ci < c; ci++)
                            for (int ki = 0; ki < k; ki++)
                                for (int kj = 0; kj < k; kj++)
                                {
                                    int iy = oy * s - p + ki, ix = ox * s - p + kj;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    acc += x[((i * c + ci) * h + iy) * wd + ix] * w[((oc * c + ci) * k + ki) * k + kj];
                                }
                        y[((i * o + oc) * ho + oy) * wo + ox] = acc;
                    }
        return y;
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(2, 0)]
    [InlineData(3, 2)]
    public void Conv2d_Gradients_MatchFiniteDifferences(int stride, int pad)
    {
        int n = 2, c = 2, h = 5, w = 6, o = 3, k = 3;
        Run((g, t) => g.Conv2d(t[0], t[1], t[2], stride, pad),
            x => Conv(x[0], x[1], x[2], n, c, h, w, o, k, stride, pad),
            [new([n, c, h, w]), new([o, c, k, k]), new([o])], seed: stride * 10 + pad);
    }

    [Fact]
    public void Conv2d_ChannelMismatch_MessageNamesBothShapes()
    {
        var g = new Graph();
        var ex = Assert.Throws<ArgumentException>(() => g.Conv2d(new Tensor([1, 3, 8, 8]), new Tensor([4, 2, 3, 3]), null));
        Assert.Contains("[1, 3, 8, 8]", ex.Message);
        Assert.Contains("[4, 2, 3, 3]", ex.Message);
    }

    [Fact]
    public void Conv2dModule_Encoder_ProducesExpectedShape()
    {
        var rng = new Rng(1);
        var layers = new[] { new Conv2d(3, 16, 4, rng, stride: 2, padding: 1), new Conv2d(16, 32, 4, rng, stride: 2, padding: 1) };
        var g = new Graph();
        Tensor x = rng.Normal(2, 3, 64, 64);
        foreach (var l in layers) x = g.Relu(l.Forward(g, x));
        Assert.Equal([2, 32, 16, 16], x.Shape);
        Assert.Equal(["weight", "bias"], layers[0].NamedParameters().Select(p => p.Name));
    }
}
