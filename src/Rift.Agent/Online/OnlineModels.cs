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
        for (var i = 0; i < Dimension; i++) z[i] = (input[i] - Mean[i]) / Std[i];
        return z;
    }
}

/// <summary>One hindsight-labelled recovery segment: inputs, actions and the goal embedding each step was heading to.</summary>
public sealed record GoalSample(float[] Input, float[] Goal, float[] Action);

/// <summary>
/// Goal-conditioned recovery policy π_rec(a | input, z*) (UniIntervene): an MLP on [input, goal] with tanh output,
/// fitted by behaviour cloning on intervention segments with hindsight goals (the embedding actually reached up to
/// <c>horizon</c> steps later, or the segment's end). Deterministic; allocation-free <see cref="Act"/>.
/// </summary>
public sealed class GoalBcRecoveryPolicy : IGoalConditionedPolicy
{
    private readonly MlpInference _inference;
    private readonly float[] _x;

    public GoalBcRecoveryPolicy(int inputSize, int goalSize, int actionSize, int[] hidden, int seed)
    {
        InputSize = inputSize;
        GoalSize = goalSize;
        ActionSize = actionSize;
        Net = new Mlp(inputSize + goalSize, hidden, actionSize, new Rng(seed), outputActivation: Activation.Tanh);
        _inference = new MlpInference(Net);
        _x = new float[inputSize + goalSize];
    }

    public int InputSize { get; }
    public int GoalSize { get; }
    public int ActionSize { get; }
    public Mlp Net { get; }

    public void Act(ReadOnlySpan<float> input, ReadOnlySpan<float> goal, Span<float> action)
    {
        input.CopyTo(_x);
        goal.CopyTo(_x.AsSpan(InputSize));
        _inference.Run(_x, action);
    }

    /// <summary>Hindsight samples of one controlled stretch: step t's goal is z of the input reached min(t + horizon, end) − but at least 1 step ahead.</summary>
    public static IEnumerable<GoalSample> Hindsight(IReadOnlyList<Transition> segment, Func<float[], float[]> embed, int horizon, Random rng)
    {
        for (var t = 0; t < segment.Count; t++)
        {
            // Half the samples aim at the segment's end (the goal the memory will supply), half at a random nearer point.
            var end = Math.Min(segment.Count - 1, t + horizon - 1);
            var g = rng.NextDouble() < 0.5 ? end : t + rng.Next(end - t + 1);
            yield return new GoalSample(segment[t].Input, embed(segment[g].NextInput), segment[t].Action);
        }
    }

    /// <summary>MSE behaviour cloning on <paramref name="samples"/>; returns the last minibatch loss.</summary>
    public double Fit(IReadOnlyList<GoalSample> samples, int steps, int seed, int batch = 256, float lr = 1e-3f)
    {
        if (samples.Count == 0) return double.NaN;
        var rng = new Rng(seed);
        var opt = new Adam(Net.Parameters(), lr);
        var x = new Tensor([batch, InputSize + GoalSize]);
        var y = new Tensor([batch, ActionSize]);
        var g = new Graph();
        double loss = double.NaN;
        for (var s = 0; s < steps; s++)
        {
            for (var i = 0; i < batch; i++)
            {
                var smp = samples[rng.NextInt(samples.Count)];
                var row = x.Span.Slice(i * (InputSize + GoalSize), InputSize + GoalSize);
                smp.Input.CopyTo(row);
                smp.Goal.CopyTo(row[InputSize..]);
                smp.Action.CopyTo(y.Span.Slice(i * ActionSize, ActionSize));
            }
            g.Reset();
            var l = g.MseLoss(Net.Forward(g, x), y);
            opt.ZeroGrad();
            g.Backward(l);
            opt.Step();
            loss = l.Item();
        }
        return loss;
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
