using Rift.Nn;

namespace Rift.Learning.Tests;

internal static class TestUtil
{
    public static Transition T(float x, float a, float r = 0, float x2 = 0, bool term = false, bool trunc = false, bool e = false, Controller c = Controller.Policy) =>
        new() { Input = [x], Action = [a], Reward = r, NextInput = [x2], Terminated = term, Truncated = trunc, Intervention = e, Controller = c };

    public static float[] Flatten(IModule m) => m.Parameters().SelectMany(p => p.Span.ToArray()).ToArray();

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "rift-learning-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Sets an actor's output layer to constant (μ, log σ) for every input.</summary>
    public static void SetConstantHead(TanhGaussianActor actor, float[] mu, float[] logStd)
    {
        var last = actor.Net.Layers[^1];
        last.Weight.Span.Clear();
        for (var i = 0; i < mu.Length; i++)
        {
            last.Bias!.Span[i] = mu[i];
            last.Bias.Span[mu.Length + i] = logStd[i];
        }
    }
}
