using Rift.Nn;

namespace Rift.Nn.Tests;

public class CoreTests
{
    [Fact]
    public void Add_ShapeMismatch_MessageNamesBothShapes()
    {
        var g = new Graph();
        var ex = Assert.Throws<ArgumentException>(() => g.Add(new Tensor([3, 4]), new Tensor([2, 4])));
        Assert.Contains("[3, 4]", ex.Message);
        Assert.Contains("[2, 4]", ex.Message);
    }

    [Fact]
    public void Linear_InputMismatch_MessageNamesBothShapes()
    {
        var g = new Graph();
        var ex = Assert.Throws<ArgumentException>(() => g.Linear(new Tensor([5, 3]), new Tensor([4, 7]), null));
        Assert.Contains("[5, 3]", ex.Message);
        Assert.Contains("[4, 7]", ex.Message);
    }

    [Fact]
    public void MseLoss_ShapeMismatch_MessageNamesBothShapes()
    {
        var g = new Graph();
        var ex = Assert.Throws<ArgumentException>(() => g.MseLoss(new Tensor([8, 1]), new Tensor([8])));
        Assert.Contains("[8, 1]", ex.Message);
        Assert.Contains("[8]", ex.Message);
    }

    [Fact]
    public void CheckFinite_NaNInParameter_NamesTensor()
    {
        var mlp = new Mlp(3, [4], 1, new Rng(0));
        mlp.Layers[1].Weight.Data[2] = float.NaN;
        var ex = Assert.Throws<NonFiniteException>(() => mlp.CheckFinite());
        Assert.Contains("2.weight", ex.Message);
        Assert.Equal(2, ex.Index);
    }

    [Fact]
    public void CheckFinite_GraphMode_NamesFirstBadOp()
    {
        var g = new Graph { CheckFiniteEnabled = true };
        var x = new Tensor([2], [-1f, 4f]);
        var ex = Assert.Throws<NonFiniteException>(() => g.Exp(g.Log(x)));
        Assert.Contains("log", ex.TensorName);
    }

    [Fact]
    public void Mlp_SameSeed_SameWeights()
    {
        var a = new Mlp(5, [8, 8], 2, new Rng(42), layerNorm: true);
        var b = new Mlp(5, [8, 8], 2, new Rng(42), layerNorm: true);
        var c = new Mlp(5, [8, 8], 2, new Rng(43), layerNorm: true);
        Assert.Equal(a.Parameters().SelectMany(p => p.ToArray()), b.Parameters().SelectMany(p => p.ToArray()));
        Assert.NotEqual(a.Parameters().SelectMany(p => p.ToArray()), c.Parameters().SelectMany(p => p.ToArray()));
    }

    [Fact]
    public void Mlp_Names_FollowTorchSequential()
    {
        var ln = new Mlp(4, [16, 16], 1, new Rng(0), layerNorm: true);
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias", "6.weight", "6.bias"],
            ln.NamedParameters().Select(p => p.Name));
        var plain = new Mlp(4, [16], 2, new Rng(0));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], plain.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void LinearInit_TorchKaimingBounds_Hold()
    {
        var lin = new Linear(100, 50, new Rng(1));
        float bound = 1f / MathF.Sqrt(100);
        Assert.All(lin.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(lin.Bias!.ToArray(), v => Assert.InRange(v, -bound, bound));
        // Uniform on ±bound has std bound/√3.
        var w = lin.Weight.ToArray();
        double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.9 * bound / Math.Sqrt(3), 1.1 * bound / Math.Sqrt(3));
    }

    [Fact]
    public void Polyak_Tau_InterpolatesWeights()
    {
        var target = new Mlp(3, [4], 1, new Rng(1));
        var source = new Mlp(3, [4], 1, new Rng(2));
        var before = target.Layers[0].Weight.ToArray();
        target.PolyakUpdate(source, 0.25f);
        var after = target.Layers[0].Weight.ToArray();
        var src = source.Layers[0].Weight.ToArray();
        for (int i = 0; i < before.Length; i++) Assert.Equal(0.75f * before[i] + 0.25f * src[i], after[i], 6);
        target.CopyFrom(source);
        Assert.Equal(src, target.Layers[0].Weight.ToArray());
    }

    [Fact]
    public void CopyFrom_DifferentArchitecture_NamesParameter()
    {
        var a = new Mlp(3, [4], 1, new Rng(1));
        var b = new Mlp(3, [5], 1, new Rng(1));
        var ex = Assert.Throws<ArgumentException>(() => a.CopyFrom(b));
        Assert.Contains("0.weight", ex.Message);
    }

    [Fact]
    public void SetRequiresGrad_Frozen_ReceivesNoGradient()
    {
        var mlp = new Mlp(3, [4], 1, new Rng(1));
        mlp.SetRequiresGrad(false);
        var x = new Tensor([2, 3], [1, 2, 3, 4, 5, 6], requiresGrad: true);
        var g = new Graph();
        g.Backward(g.Sum(mlp.Forward(g, x)));
        Assert.All(mlp.Parameters(), p => Assert.All(p.Grad!, v => Assert.Equal(0f, v)));
        Assert.Contains(x.Grad!, v => v != 0f);
    }

    [Fact]
    public void Backward_Twice_AccumulatesParameterGradients()
    {
        var w = new Tensor([1, 2], [1f, 2f], true);
        var x = new Tensor([1, 2], [3f, 4f]);
        var g = new Graph();
        var loss = g.Sum(g.Linear(x, w, null));
        g.Backward(loss);
        g.Backward(loss);
        Assert.Equal([6f, 8f], w.Grad!);
        w.ZeroGrad();
        Assert.Equal([0f, 0f], w.Grad!);
    }

    [Fact]
    public void GraphReset_RepeatedSteps_ReusesBuffers()
    {
        var mlp = new Mlp(8, [16], 1, new Rng(3));
        var x = new Rng(4).Normal(32, 8);
        var g = new Graph();
        float[]? first = null;
        for (int step = 0; step < 3; step++)
        {
            g.Reset();
            var y = mlp.Forward(g, x);
            first ??= y.Data;
            Assert.Same(first, y.Data);
        }
    }

    [Fact]
    public void ScalarParameter_LogAlpha_GetsGradient()
    {
        // SAC temperature loss: −log α · (log π + H̄) averaged.
        var logAlpha = Tensor.Scalar(0.5f, requiresGrad: true, name: "log_alpha");
        var logPi = new Tensor([4, 1], [-1f, -2f, -0.5f, -3f]);
        var g = new Graph();
        var loss = g.Neg(g.Mean(g.Mul(logAlpha, g.AddScalar(logPi, -2f))));
        g.Backward(loss);
        Assert.Equal(-(-1.625f - 2f), logAlpha.Grad![0], 5);
    }

    [Fact]
    public void NoGradGraph_RecordsNothing()
    {
        var mlp = new Mlp(3, [4], 1, new Rng(1));
        var g = new Graph(gradEnabled: false);
        var y = mlp.Forward(g, new Tensor([2, 3]));
        Assert.False(y.RequiresGrad);
        Assert.Equal(0, g.TapeLength);
    }

    [Fact]
    public void Rng_SameSeed_SameStream()
    {
        var a = new Rng(7);
        var b = new Rng(7);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextNormal(), b.NextNormal());
        var n = new Rng(1).Normal(20000);
        double mean = n.ToArray().Average(), var = n.ToArray().Select(v => (double)v * v).Average();
        Assert.InRange(mean, -0.03, 0.03);
        Assert.InRange(var, 0.95, 1.05);
    }
}
