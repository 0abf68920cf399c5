using Rift.Nn;

namespace Rift.Nn.Tests;

public class InferenceTests
{
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 3)]
    public void MlpInference_MatchesGraphForward(bool layerNorm, int batch)
    {
        var rng = new Rng(9);
        var mlp = new Mlp(10, [32, 16], 3, rng, Activation.Gelu, layerNorm, Activation.Tanh);
        var x = rng.Normal(batch, 10);
        var g = new Graph(gradEnabled: false);
        var expected = mlp.Forward(g, x).ToArray();
        var session = new MlpInference(mlp, maxBatch: 4);
        var output = new float[batch * 3];
        session.Run(x.Span, output, batch);
        for (int i = 0; i < output.Length; i++) Assert.Equal(expected[i], output[i], 5);
    }

    [Fact]
    public void MlpInference_RepeatedCalls_AllocateNothing()
    {
        var rng = new Rng(2);
        var mlp = new Mlp(64, [256, 256], 4, rng, layerNorm: true);
        var session = new MlpInference(mlp, maxBatch: 8);
        var input = new float[8 * 64];
        rng.FillNormal(input);
        var output = new float[8 * 4];
        for (int i = 0; i < 50; i++)
        {
            session.Run(input, output, 1);
            session.Run(input, output, 8);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            session.Run(input, output, 1);
            session.Run(input, output, 8);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void MlpInference_FollowsWeightUpdates()
    {
        var mlp = new Mlp(2, [4], 1, new Rng(1));
        var session = new MlpInference(mlp);
        var o1 = new float[1];
        var o2 = new float[1];
        session.Run([1f, 2f], o1);
        mlp.Layers[1].Bias!.Data[0] += 1f;
        session.Run([1f, 2f], o2);
        Assert.Equal(o1[0] + 1f, o2[0], 5);
    }
}
