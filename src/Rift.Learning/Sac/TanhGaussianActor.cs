using Rift.Nn;

namespace Rift.Learning;

/// <summary>
/// The SAC policy network: an MLP giving (μ, log σ) of a diagonal Gaussian over pre-tanh actions u, a = tanh(u).
/// Deterministic actions are the "mode" tanh(μ) (RIFT B.3). Also the BC prior and MILE's policy / mental model.
/// Not thread-safe (one inference buffer).
/// </summary>
public sealed class TanhGaussianActor : IPolicy, IModule
{
    /// <summary>Bounds on log σ (as in common SAC implementations) so that σ never collapses or explodes.</summary>
    public const float LogStdMin = -5f, LogStdMax = 2f;

    private readonly MlpInference _inference;
    private readonly float[] _head;

    public TanhGaussianActor(int inputSize, int actionSize, IReadOnlyList<int> hiddenSizes, Rng rng, bool layerNorm = false)
    {
        if (inputSize <= 0 || actionSize <= 0) throw new ArgumentOutOfRangeException(nameof(inputSize), $"Actor needs positive sizes, got input {inputSize}, action {actionSize}.");
        InputSize = inputSize;
        ActionSize = actionSize;
        HiddenSizes = hiddenSizes.ToArray();
        Net = new Mlp(inputSize, HiddenSizes, 2 * actionSize, rng, layerNorm: layerNorm);
        _inference = new MlpInference(Net, 1);
        _head = new float[2 * actionSize];
    }

    public int InputSize { get; }
    public int ActionSize { get; }
    public IReadOnlyList<int> HiddenSizes { get; }
    public Mlp Net { get; }

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters() => Net.NamedParameters();

    /// <summary>μ and clamped log σ for a batch [B, InputSize] → ([B, A], [B, A]).</summary>
    public (Tensor Mu, Tensor LogStd) Forward(Graph g, Tensor inputs)
    {
        var head = Net.Forward(g, inputs);
        var mu = g.Slice(head, -1, 0, ActionSize);
        var logStd = g.Clamp(g.Slice(head, -1, ActionSize, ActionSize), LogStdMin, LogStdMax);
        return (mu, logStd);
    }

    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng)
    {
        if (input.Length != InputSize) throw new ArgumentException($"Actor input has {input.Length} values, expected {InputSize}.", nameof(input));
        if (action.Length != ActionSize) throw new ArgumentException($"Action buffer has {action.Length} values, expected {ActionSize}.", nameof(action));
        _inference.Run(input, _head);
        for (var i = 0; i < ActionSize; i++)
        {
            double u = _head[i];
            if (!deterministic)
            {
                var logStd = Math.Clamp(_head[ActionSize + i], LogStdMin, LogStdMax);
                u += Math.Exp(logStd) * Gaussian(rng);
            }
            action[i] = (float)Math.Tanh(u);
        }
    }

    /// <summary>The mode tanh(μ) of a single input.</summary>
    public void Mode(ReadOnlySpan<float> input, Span<float> action) => Act(input, action, true, null!);

    /// <summary>Copies weights from an actor of the same architecture (e.g. initialising SAC's actor from π0).</summary>
    public void CopyFrom(TanhGaussianActor other) => ModuleExtensions.CopyFrom(this, other);

    /// <summary>A new actor with the same architecture and a copy of the weights.</summary>
    public TanhGaussianActor Clone()
    {
        var c = new TanhGaussianActor(InputSize, ActionSize, HiddenSizes, new Rng(0), Net.Norms.Count > 0);
        c.CopyFrom(this);
        return c;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
