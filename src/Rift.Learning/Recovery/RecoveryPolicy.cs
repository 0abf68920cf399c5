using System.ComponentModel.DataAnnotations;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>Goal-conditioned recovery policy training (configuration section <c>RecoveryPolicy</c>); DESIGN.md §6 UniIntervene.</summary>
public sealed class RecoveryPolicyOptions
{
    /// <summary>Hidden sizes, comma-separated. Default "256,256".</summary>
    [Required, RegularExpression(@"^\s*[1-9]\d*(\s*,\s*[1-9]\d*)*\s*$", ErrorMessage = "Hidden must be comma-separated positive layer sizes, e.g. \"256,256\".")]
    public string Hidden { get; set; } = "256,256";

    /// <summary>Hindsight horizon: a step's goal is the embedding of a state 1…H steps later in the same segment (reference: span 32). Default 32.</summary>
    [Range(1, 100000)]
    public int GoalHorizon { get; set; } = 32;

    /// <summary>Probability of using the segment's final state as the goal instead of a random later one. Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double FinalGoalProbability { get; set; } = 0.5;

    /// <summary>Gradient steps. Default 2000.</summary>
    [Range(1, 10_000_000)]
    public int Steps { get; set; } = 2000;

    /// <summary>Batch size. Default 256.</summary>
    [Range(1, 65536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    [Range(0.0, 1.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Seed. Default 0.</summary>
    public int Seed { get; set; }

    public int[] HiddenSizes() => HiddenLayers.Parse(Hidden);
}

/// <summary>
/// A recovery (intervention) segment: the inputs and actions of consecutive human/agent-controlled steps and, for each
/// step, the goal-space embedding of the state it led to (<c>Reached[t]</c> = embedding of s_{t+1}), supplied by the caller
/// (the frame encoder lives in Rift.ValueCritic).
/// </summary>
public sealed class InterventionSegment
{
    public InterventionSegment(float[][] inputs, float[][] actions, float[][] reached)
    {
        if (inputs.Length == 0) throw new ArgumentException("A recovery segment needs at least one step.", nameof(inputs));
        if (actions.Length != inputs.Length || reached.Length != inputs.Length)
            throw new ArgumentException($"Segment has {inputs.Length} inputs, {actions.Length} actions and {reached.Length} reached embeddings; all must be equal.", nameof(actions));
        Inputs = inputs;
        Actions = actions;
        Reached = reached;
    }

    public float[][] Inputs { get; }
    public float[][] Actions { get; }
    public float[][] Reached { get; }
    public int Length => Inputs.Length;

    /// <summary>
    /// The maximal runs of non-policy steps (human takeovers, agent recoveries) of an episode;
    /// <paramref name="embedNext"/> gives the goal embedding of a transition's next state.
    /// </summary>
    public static List<InterventionSegment> FromEpisode(EpisodeRecord episode, Func<Transition, float[]> embedNext)
    {
        var list = new List<InterventionSegment>();
        var run = new List<Transition>();
        void Flush()
        {
            if (run.Count > 0)
                list.Add(new InterventionSegment(run.Select(t => t.Input).ToArray(), run.Select(t => t.Action).ToArray(), run.Select(embedNext).ToArray()));
            run.Clear();
        }
        foreach (var t in episode.Transitions)
        {
            if (t.Controller == Controller.Policy) Flush();
            else run.Add(t);
        }
        Flush();
        return list;
    }
}

/// <summary>A deterministic goal-conditioned policy a = tanh(MLP([input, goal])).</summary>
public sealed class GoalConditionedPolicy : IGoalConditionedPolicy, IModule
{
    private readonly MlpInference _inference;
    private readonly float[] _x;

    public GoalConditionedPolicy(int inputSize, int goalSize, int actionSize, IReadOnlyList<int> hidden, Rng rng)
    {
        if (inputSize <= 0 || goalSize <= 0 || actionSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"Sizes must be positive, got input {inputSize}, goal {goalSize}, action {actionSize}.");
        InputSize = inputSize;
        GoalSize = goalSize;
        ActionSize = actionSize;
        Net = new Mlp(inputSize + goalSize, hidden, actionSize, rng, outputActivation: Activation.Tanh);
        _inference = new MlpInference(Net, 1);
        _x = new float[inputSize + goalSize];
    }

    public int InputSize { get; }
    public int GoalSize { get; }
    public int ActionSize { get; }
    public Mlp Net { get; }

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters() => Net.NamedParameters();

    public void Act(ReadOnlySpan<float> input, ReadOnlySpan<float> goal, Span<float> action)
    {
        if (input.Length != InputSize) throw new ArgumentException($"Recovery policy input has {input.Length} values, expected {InputSize}.", nameof(input));
        if (goal.Length != GoalSize) throw new ArgumentException($"Recovery goal has {goal.Length} values, expected {GoalSize}.", nameof(goal));
        input.CopyTo(_x);
        goal.CopyTo(_x.AsSpan(InputSize));
        _inference.Run(_x, action);
    }
}

/// <summary>
/// Trains a <see cref="GoalConditionedPolicy"/> on intervention segments with hindsight relabelling: each step's goal
/// is the embedding of a state the segment actually reached 1…H steps later (or its final state), so the policy learns
/// to drive toward whatever target embedding it is given.
/// </summary>
public static class RecoveryTrainer
{
    public static GoalConditionedPolicy Train(IReadOnlyList<InterventionSegment> segments, int inputSize, int goalSize, int actionSize,
        RecoveryPolicyOptions o, Action<int, double>? onStep = null)
    {
        var policy = new GoalConditionedPolicy(inputSize, goalSize, actionSize, o.HiddenSizes(), new Rng(o.Seed));
        Fit(policy, segments, o, onStep);
        return policy;
    }

    public static double Fit(GoalConditionedPolicy policy, IReadOnlyList<InterventionSegment> segments, RecoveryPolicyOptions o, Action<int, double>? onStep = null)
    {
        if (segments.Count == 0) throw new ArgumentException("Recovery training needs at least one segment.", nameof(segments));
        int In = policy.InputSize, G = policy.GoalSize, A = policy.ActionSize;
        foreach (var seg in segments)
            for (var t = 0; t < seg.Length; t++)
                if (seg.Inputs[t].Length != In || seg.Actions[t].Length != A || seg.Reached[t].Length != G)
                    throw new ArgumentException($"Segment step {t} has input {seg.Inputs[t].Length}, action {seg.Actions[t].Length}, goal {seg.Reached[t].Length}; the policy takes {In}, {A}, {G}.", nameof(segments));
        var index = segments.SelectMany((s, i) => Enumerable.Range(0, s.Length).Select(t => (i, t))).ToArray();
        var rng = new Rng(o.Seed * 13 + 1);
        var opt = new Adam(policy.Parameters(), (float)o.LearningRate);
        var g = new Graph();
        int B = o.BatchSize;
        var x = new Tensor([B, In + G]);
        var y = new Tensor([B, A]);
        double last = 0;
        for (var step = 0; step < o.Steps; step++)
        {
            for (var b = 0; b < B; b++)
            {
                var (si, t) = index[rng.NextInt(index.Length)];
                var seg = segments[si];
                // Hindsight goal: a state reached later in the same segment (Reached[t] is the state right after step t).
                var k = rng.NextDouble() < o.FinalGoalProbability ? seg.Length - 1 : Math.Min(seg.Length - 1, t + rng.NextInt(o.GoalHorizon));
                seg.Inputs[t].AsSpan().CopyTo(x.Span[(b * (In + G))..]);
                seg.Reached[k].AsSpan().CopyTo(x.Span[(b * (In + G) + In)..]);
                for (var d = 0; d < A; d++) y.Span[b * A + d] = Math.Clamp(seg.Actions[t][d], -1f, 1f);
            }
            g.Reset();
            var loss = g.MseLoss(policy.Net.Forward(g, x), y);
            opt.ZeroGrad();
            g.Backward(loss);
            opt.Step();
            last = loss.Item();
            onStep?.Invoke(step, last);
        }
        return last;
    }
}
