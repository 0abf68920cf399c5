using Rift.Nn;

namespace Rift.Nn.Tests;

public class AdamTests
{
    // Hand-computed torch.optim.Adam trajectory in double.
    private static double[] Trajectory(double theta, double[] grads, double lr, double b1, double b2, double eps, double wd)
    {
        double m = 0, v = 0;
        var result = new double[grads.Length];
        for (int t = 1; t <= grads.Length; t++)
        {
            double g = grads[t - 1] + wd * theta;
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double stepSize = lr / (1 - Math.Pow(b1, t));
            double denom = Math.Sqrt(v) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps;
            theta -= stepSize * m / denom;
            result[t - 1] = theta;
        }
        return result;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    public void Step_FixedGradients_MatchesHandComputedTrajectory(double wd)
    {
        var grads = new[] { 0.5, -1.0, 0.25, 2.0, 0.0, -0.1 };
        var p = new Tensor([1], [1.5f], requiresGrad: true);
        var opt = new Adam([p], lr: 0.1f, weightDecay: (float)wd);
        var expected = Trajectory(1.5, grads, 0.1, 0.9, 0.999, 1e-8, wd);
        for (int t = 0; t < grads.Length; t++)
        {
            p.Grad![0] = (float)grads[t];
            opt.Step();
            Assert.Equal(expected[t], p.Data[0], 5);
        }
        Assert.Equal(grads.Length, opt.StepCount);
    }

    [Fact]
    public void Step_Quadratic_Converges()
    {
        var p = new Tensor([3], [1f, -2f, 3f], requiresGrad: true);
        var opt = new Adam([p], lr: 0.05f);
        for (int i = 0; i < 500; i++)
        {
            opt.ZeroGrad();
            var g = new Graph();
            g.Backward(g.Sum(g.Square(p)));
            opt.Step();
        }
        Assert.All(p.ToArray(), v => Assert.InRange(v, -0.05f, 0.05f));
    }

    [Fact]
    public void Step_FrozenParameter_Unchanged()
    {
        var p = new Tensor([2], [1f, 2f], requiresGrad: true);
        p.Grad![0] = 1f;
        p.RequiresGrad = false;
        new Adam([p]).Step();
        Assert.Equal([1f, 2f], p.ToArray());
    }

    [Fact]
    public void ClipGradNorm_AboveMax_ScalesToMax()
    {
        var a = new Tensor([2], requiresGrad: true);
        var b = new Tensor([1], requiresGrad: true);
        a.Grad![0] = 3f;
        a.Grad![1] = 0f;
        b.Grad![0] = 4f;
        float norm = Optim.ClipGradNorm([a, b], 1f);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(1f, Optim.GlobalGradNorm([a, b]), 4);
        Assert.Equal(0.6f, a.Grad[0], 4);
        float again = Optim.ClipGradNorm([a, b], 10f);
        Assert.Equal(0.6f, a.Grad[0], 4);
        Assert.Equal(1f, again, 4);
    }
}

public class AdamThreadTests
{
    [Fact]
    public void Step_TwoThreads_SameAsOneThread()
    {
        Tensor[] Make() => [Tensor.Parameter([300, 257]), Tensor.Parameter([7]), Tensor.Parameter([40000])];
        var a = Make();
        var b = Make();
        var rng = new Rng(4);
        foreach (var (x, y) in a.Zip(b))
        {
            rng.FillNormal(x.Span);
            x.Span.CopyTo(y.Span);
        }
        var oa = new Adam(a, lr: 0.01f, weightDecay: 0.1f);
        var ob = new Adam(b, lr: 0.01f, weightDecay: 0.1f);
        int saved = Gemm.Threads;
        try
        {
            for (int step = 0; step < 3; step++)
            {
                foreach (var (x, y) in a.Zip(b))
                {
                    rng.FillNormal(x.GradSpan);
                    x.GradSpan.CopyTo(y.GradSpan);
                }
                Gemm.Threads = 1;
                oa.Step();
                Gemm.Threads = 2;
                ob.Step();
            }
        }
        finally
        {
            Gemm.Threads = saved;
        }
        foreach (var (x, y) in a.Zip(b)) Assert.Equal(x.ToArray(), y.ToArray());
    }
}
