using Rift.Learning;
using Rift.Nn;
using Rift.ValueCritic;

namespace Rift.Agent.Online;

/// <summary>
/// The agent's embedding in state-based online runs: the policy input (proprio and object state, as a perception
/// system would supply it through <see cref="Observation.Embedding"/>) standardised with statistics of the
/// demonstrations, so cosine similarity in the recovery memory compares states, not offsets. Frames are not
/// rendered in online runs (rendering plus the conv encoder would cost most of the benchmark's time budget).
/// </summary>
public sealed class StateFeatureEncoder : IFrameEncoder
{
    public StateFeatureEncoder(float[] mean, float[] std)
    {
        if (mean.Length != std.Length) throw new ArgumentException($"Mean has {mean.Length} values, std {std.Length}.", nameof(std));
        Mean = mean;
        Std = std;
    }

    public float[] Mean { get; }
    public float[] Std { get; }
    public int Dimension => Mean.Length;

    /// <summary>Statistics of the inputs of <paramref name="episodes"/> (std floored at 1e-3).</summary>
    public static StateFeatureEncoder Fit(IEnumerable<EpisodeRecord> episodes, int size)
    {
        var sum = new double[size];
        var sq = new double[size];
        long n = 0;
        foreach (var t in episodes.SelectMany(e => e.Transitions))
        {
            for (var i = 0; i < size; i++)
            {
                sum[i] += t.Input[i];
                sq[i] += t.Input[i] * (double)t.Input[i];
            }
            n++;
        }
        if (n == 0) throw new ArgumentException("StateFeatureEncoder.Fit needs at least one transition.", nameof(episodes));
        var mean = new float[size];
        var std = new float[size];
        for (var i = 0; i < size; i++)
        {
            mean[i] = (float)(sum[i] / n);
            std[i] = (float)Math.Max(1e-3, Math.Sqrt(Math.Max(0, sq[i] / n - mean[i] * (double)mean[i])));
        }
        return new StateFeatureEncoder(mean, std);
    }

    public void Encode(Observation observation, Span<float> z)
    {
        if (observation.Embedding is { } e)
        {
            if (e.Length != Dimension) throw new ArgumentException($"Observation embedding has {e.Length} values, encoder dimension is {Dimension}.", nameof(observation));
            e.CopyTo(z);
            return;
        }
        var p = observation.Proprio;
        var o = observation.ObjectState;
        if (p.Length + o.Length != Dimension)
            throw new ArgumentException($"Observation has {p.Length}+{o.Length} state values, encoder dimension is {Dimension}.", nameof(observation));
        for (var i = 0; i < p.Length; i++) z[i] = (p[i] - Mean[i]) / Std[i];
        for (var i = 0; i < o.Length; i++) z[p.Length + i] = (o[i] - Mean[p.Length + i]) / Std[p.Length + i];
    }

    /// <summary>z of a raw policy input vector.</summary>
    public float[] Encode(ReadOnlySpan<float> input)
    {
        var z = new float[Dimension];
        Encode(input, z);
        return z;
    }

    /// <summary>z of a raw policy input vector into <paramref name="z"/> (allocation-free).</summary>
    public void Encode(ReadOnlySpan<float> input, Span<float> z)
    {
        for (var i = 0; i < Dimension; i++) z[i] = (input[i] - Mean[i]) / Std[i];
    }
}

/// <summary>
/// Gives the recovery policy the memory's target only when it is near the current state (cos(z, z*) ≥ the threshold);
/// otherwise the null goal (zeros), the goal-free mode the policy learns by goal dropout. A target from another scene
/// configuration (block, hole, target elsewhere) carries no usable direction for this one and, measured, makes the
/// recovery worse than π0; the policy's goal-free mode, fitted on takeovers and demonstrations, is better than π0.
/// </summary>
public sealed class GoalGate(IGoalConditionedPolicy inner, StateFeatureEncoder encoder, double minSimilarity) : IGoalConditionedPolicy
{
    private readonly float[] _z = new float[encoder.Dimension];
    private readonly float[] _none = new float[inner.GoalSize];
    public IGoalConditionedPolicy Inner { get; } = inner;
    public double MinSimilarity { get; } = minSimilarity;
    public int InputSize => Inner.InputSize;
    public int GoalSize => Inner.GoalSize;
    public int ActionSize => Inner.ActionSize;

    public void Act(ReadOnlySpan<float> input, ReadOnlySpan<float> goal, Span<float> action)
    {
        encoder.Encode(input, _z);
        Inner.Act(input, Loop.ArbitrationLoop.Cosine(_z, goal) >= MinSimilarity ? goal : _none, action);
    }
}

/// <summary>
/// The FA-RL-style baseline's "critic": 1 − p(failure | z) from a failure classifier, so a
/// <see cref="ValueThresholdTrigger"/> at 1 − threshold fires exactly when p(failure) ≥ threshold and the loop's
/// hand-back rule reads "failure probability fell".
/// </summary>
public sealed class FailureProbabilityCritic(FailureClassifier classifier, int actionSize) : IValueCritic
{
    public FailureClassifier Classifier { get; } = classifier;
    public int EmbeddingSize => Classifier.EmbeddingSize;
    public int ActionSize { get; } = actionSize;
    public float Evaluate(ReadOnlySpan<float> z, ReadOnlySpan<float> action) => 1f - Classifier.Probability(z);
}

/// <summary>
/// Exponential smoothing of the critic's per-step values within one episode, q̄_t = β·q̄_{t−1} + (1 − β)·Q(z_t, a_t):
/// training rollouts sample their actions, so single-step values scatter; the trigger looks for sustained trends.
/// One instance per episode (the loop's agent components are built per episode).
/// </summary>
public sealed class SmoothedCritic(IValueCritic inner, double beta) : IValueCritic
{
    private float _q = float.NaN;
    public IValueCritic Inner { get; } = inner;
    public double Beta { get; } = beta;
    public int EmbeddingSize => Inner.EmbeddingSize;
    public int ActionSize => Inner.ActionSize;

    public float Evaluate(ReadOnlySpan<float> z, ReadOnlySpan<float> action)
    {
        var q = Inner.Evaluate(z, action);
        _q = float.IsNaN(_q) || !float.IsFinite(q) ? q : (float)(Beta * _q + (1 - Beta) * q);
        return _q;
    }
}
