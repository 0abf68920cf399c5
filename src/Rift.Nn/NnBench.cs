using System.Diagnostics;

namespace Rift.Nn;

/// <summary>
/// The <c>rift bench nn</c> workloads: MLP training steps (forward, MSE, backward, Adam lr 3e-4) on random
/// data, and single-sample inference latency. Mirrors scripts/reference/torch_nn_bench.py.
/// </summary>
public static class NnBench
{
    /// <summary>
    /// Trains an MLP with layer sizes <paramref name="sizes"/> (input, hidden…, output; ReLU) and returns
    /// training steps per second over <paramref name="steps"/> timed steps after <paramref name="warmup"/> steps.
    /// </summary>
    public static double TrainStepsPerSecond(int[] sizes, int batch, int threads, int steps, int warmup = 20, int seed = 0)
    {
        var rng = new Rng(seed);
        var mlp = new Mlp(sizes[0], sizes[1..^1], sizes[^1], rng);
        var x = rng.Normal(batch, sizes[0]);
        var target = rng.Normal(batch, sizes[^1]);
        var opt = new Adam(mlp.Parameters(), lr: 3e-4f);
        var g = new Graph();
        int saved = Gemm.Threads;
        Gemm.Threads = threads;
        try
        {
            void Step()
            {
                g.Reset();
                var loss = g.MseLoss(mlp.Forward(g, x), target);
                opt.ZeroGrad();
                g.Backward(loss);
                opt.Step();
            }
            for (int i = 0; i < warmup; i++) Step();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++) Step();
            return steps / sw.Elapsed.TotalSeconds;
        }
        finally
        {
            Gemm.Threads = saved;
        }
    }

    /// <summary>Median latency in microseconds of one single-sample forward through an MLP (allocation-free path).</summary>
    public static double InferenceMicroseconds(int[] sizes, int calls, int seed = 0)
    {
        var rng = new Rng(seed);
        var mlp = new Mlp(sizes[0], sizes[1..^1], sizes[^1], rng);
        var session = new MlpInference(mlp);
        var input = new float[sizes[0]];
        rng.FillNormal(input);
        var output = new float[sizes[^1]];
        for (int i = 0; i < 200; i++) session.Run(input, output);
        var times = new double[calls];
        for (int i = 0; i < calls; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            session.Run(input, output);
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        return Median(times);
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var s = values.OrderBy(v => v).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
