using System.ComponentModel.DataAnnotations;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>Goal-conditioned recovery policy training (configuration section <c>RecoveryPolicy</c>); DESIGN.md §6 UniIntervene.</summary>
public sealed class RecoveryPolicyOptions
{
    /// <summary>Hidden sizes, comma-separated. Default "256,256".</summary>
    [Required, RegularExpression(@"^\s*[1-9]\d*(\s*,\s*[1-9]\d*)*\s*$", ErrorMessage = "Hidden must be comma-separated positive layer sizes, e.g. \"256,256\".")]
    public string Hidden { get; set; } = "256,256";

    /// <summary>Action chunk length C: the policy decodes the next C actions toward the goal (UniIntervene reference: 8);
    /// the loop executes the first and decodes again next step (receding horizon). Default 8.</summary>
    [Range(1, 64)]
    public int ChunkSize { get; set; } = 8;

    /// <summary>Hindsight horizon: a step's goal is the embedding of a state 1…H steps later in the same segment (reference: span 32). Default 32.</summary>
    [Range(1, 100000)]
    public int GoalHorizon { get; set; } = 32;

    /// <summary>Probability of using the segment's final state as the goal instead of a random later one. Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double FinalGoalProbability { get; set; } = 0.5;

    /// <summary>Probability of using the goal the recovery memory retrieves for the step's state (when the segment carries one,
    /// <see cref="InterventionSegment.Retrieved"/>) instead of a hindsight goal: at run time the goal comes from memory, often
    /// from another episode, and the policy must still act well toward it. Default 0.3.</summary>
    [Range(0.0, 1.0)]
    public double RetrievedGoalProbability { get; set; } = 0.3;

    /// <summary>Goal dropout: probability that a training sample gets the null goal (all zeros), which teaches a goal-free
    /// recovery mode for targets that carry no usable direction (e.g. from another scene configuration). Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double GoalDropout { get; set; } = 0.5;

    /// <summary>Sampling mass of intervention segments (human takeovers) against other segments (demonstrations) when both
    /// are present (HiL-SERL's 50/50 intervention/online mix). Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double InterventionWeight { get; set; } = 0.5;

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
/// A recovery (intervention) segment: the inputs and actions of consecutive controlled steps and, for each step, the
/// goal-space embedding of the state it led to (<c>Reached[t]</c> = embedding of s_{t+1}), supplied by the caller (the
/// frame encoder lives in Rift.ValueCritic). <see cref="Intervention"/> marks human takeovers (false: demonstrations);
/// <see cref="Retrieved"/> optionally holds, per step, the goal the recovery memory returns for that step's state.
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

    /// <summary>True for an intervention (takeover) segment, false for a demonstration. Default true.</summary>
    public bool Intervention { get; init; } = true;

    /// <summary>Per step: the memory's goal for that state (null entries: nothing retrieved); null: no retrieval data.</summary>
    public float[]?[]? Retrieved { get; set; }

    /// <summary>
    /// The maximal runs of non-policy steps (human takeovers, agent recoveries) of an episode;
    /// <paramref name="embedNext"/> gives the goal embedding of a transition's next state.
    /// </summary>
    public static List<InterventionSegment> FromEpisode(EpisodeRecord episode, Func<Transition, float[]> embedNext) =>
        FromEpisode(episode, embedNext, c => c != Controller.Policy);

    /// <summary>The maximal runs of steps whose controller satisfies <paramref name="include"/>.</summary>
    public static List<InterventionSegment> FromEpisode(EpisodeRecord episode, Func<Transition, float[]> embedNext, Func<Controller, bool> include, bool intervention = true)
    {
        var list = new List<InterventionSegment>();
        var run = new List<Transition>();
        void Flush()
        {
            if (run.Count > 0)
                list.Add(new InterventionSegment(run.Select(t => t.Input).ToArray(), run.Select(t => t.Action).ToArray(), run.Select(embedNext).ToArray()) { Intervention = intervention });
            run.Clear();
        }
        foreach (var t in episode.Transitions)
        {
            if (!include(t.Controller)) Flush();
            else run.Add(t);
        }
        Flush();
        return list;
    }
}

/// <summary>
/// The goal-conditioned recovery policy π_rec (UniIntervene): an MLP on [input, goal] decoding a chunk of C actions
/// (tanh), a_{t..t+C−1} = π_rec(o_t, z*). <see cref="Act"/> returns the chunk's first action (receding horizon: decoded
/// again every step, so the chunk shapes training, and execution stays closed-loop). Deterministic, allocation-free.
/// </summary>
public sealed class GoalConditionedPolicy : IGoalConditionedPolicy, IModule
{
    private readonly MlpInference _inference;
    private readonly float[] _x;
    private readonly float[] _chunk;

    public GoalConditionedPolicy(int inputSize, int goalSize, int actionSize, IReadOnlyList<int> hidden, Rng rng, int chunkSize = 1)
    {
        if (inputSize <= 0 || goalSize <= 0 || actionSize <= 0 || chunkSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"Sizes must be positive, got input {inputSize}, goal {goalSize}, action {actionSize}, chunk {chunkSize}.");
        InputSize = inputSize;
        GoalSize = goalSize;
        ActionSize = actionSize;
        ChunkSize = chunkSize;
        Net = new Mlp(inputSize + goalSize, hidden, actionSize * chunkSize, rng, outputActivation: Activation.Tanh);
        _inference = new MlpInference(Net, 1);
        _x = new float[inputSize + goalSize];
        _chunk = new float[actionSize * chunkSize];
    }

    public int InputSize { get; }
    public int GoalSize { get; }
    public int ActionSize { get; }

    /// <summary>Actions decoded per call (C).</summary>
    public int ChunkSize { get; }

    public Mlp Net { get; }

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters() => Net.NamedParameters();

    /// <summary>The first action of the decoded chunk.</summary>
    public void Act(ReadOnlySpan<float> input, ReadOnlySpan<float> goal, Span<float> action)
    {
        if (action.Length != ActionSize) throw new ArgumentException($"Recovery action buffer has {action.Length} values, expected {ActionSize}.", nameof(action));
        ActChunk(input, goal, _chunk);
        _chunk.AsSpan(0, ActionSize).CopyTo(action);
    }

    /// <summary>The whole chunk, [C × ActionSize] (step-major).</summary>
    public void ActChunk(ReadOnlySpan<float> input, ReadOnlySpan<float> goal, Span<float> chunk)
    {
        if (input.Length != InputSize) throw new ArgumentException($"Recovery policy input has {input.Length} values, expected {InputSize}.", nameof(input));
        if (goal.Length != GoalSize) throw new ArgumentException($"Recovery goal has {goal.Length} values, expected {GoalSize}.", nameof(goal));
        if (chunk.Length != ActionSize * ChunkSize) throw new ArgumentException($"Recovery chunk buffer has {chunk.Length} values, expected {ChunkSize} × {ActionSize}.", nameof(chunk));
        input.CopyTo(_x);
        goal.CopyTo(_x.AsSpan(InputSize));
        _inference.Run(_x, chunk);
    }
}

/// <summary>
/// Trains a <see cref="GoalConditionedPolicy"/> on intervention segments with hindsight relabelling (UniIntervene): each
/// step's goal is the embedding of a state the segment actually reached 1…H steps later (or its final state), or — as
/// at run time — the goal the recovery memory retrieves for that state; the target is the segment's next C actions
/// (masked past the segment's end). Takeovers and demonstrations are mixed by <see cref="RecoveryPolicyOptions.InterventionWeight"/>.
/// </summary>
public static class RecoveryTrainer
{
    public static GoalConditionedPolicy Create(int inputSize, int goalSize, int actionSize, RecoveryPolicyOptions o) =>
        new(inputSize, goalSize, actionSize, o.HiddenSizes(), new Rng(o.Seed), o.ChunkSize);

    public static GoalConditionedPolicy Train(IReadOnlyList<InterventionSegment> segments, int inputSize, int goalSize, int actionSize,
        RecoveryPolicyOptions o, Action<int, double>? onStep = null)
    {
        var policy = Create(inputSize, goalSize, actionSize, o);
        Fit(policy, segments, o, onStep);
        return policy;
    }

    /// <summary>Fits <paramref name="policy"/> (continuing from its weights) for <c>o.Steps</c> steps; returns the last minibatch loss.</summary>
    public static double Fit(GoalConditionedPolicy policy, IReadOnlyList<InterventionSegment> segments, RecoveryPolicyOptions o, Action<int, double>? onStep = null)
    {
        if (segments.Count == 0) throw new ArgumentException("Recovery training needs at least one segment.", nameof(segments));
        int In = policy.InputSize, G = policy.GoalSize, A = policy.ActionSize, C = policy.ChunkSize;
        foreach (var seg in segments)
        {
            for (var t = 0; t < seg.Length; t++)
                if (seg.Inputs[t].Length != In || seg.Actions[t].Length != A || seg.Reached[t].Length != G)
                    throw new ArgumentException($"Segment step {t} has input {seg.Inputs[t].Length}, action {seg.Actions[t].Length}, goal {seg.Reached[t].Length}; the policy takes {In}, {A}, {G}.", nameof(segments));
            if (seg.Retrieved is { } r && r.Length != seg.Length)
                throw new ArgumentException($"Segment has {seg.Length} steps but {r.Length} retrieved goals.", nameof(segments));
        }

        // Two pools (takeovers, demonstrations) sampled by InterventionWeight when both exist.
        var idx = segments.Select((s, i) => (s, i)).SelectMany(p => Enumerable.Range(0, p.s.Length).Select(t => (p.i, t))).ToArray();
        var takeover = idx.Where(p => segments[p.i].Intervention).ToArray();
        var demo = idx.Where(p => !segments[p.i].Intervention).ToArray();
        var rng = new Rng(o.Seed * 13 + 1);
        var opt = new Adam(policy.Parameters(), (float)o.LearningRate);
        var g = new Graph();
        int B = o.BatchSize;
        var x = new Tensor([B, In + G]);
        var y = new Tensor([B, C * A]);
        var mask = new Tensor([B, C * A]);
        double last = 0;
        for (var step = 0; step < o.Steps; step++)
        {
            x.Span.Clear();
            y.Span.Clear();
            mask.Span.Clear();
            for (var b = 0; b < B; b++)
            {
                var pool = takeover.Length == 0 ? demo : demo.Length == 0 ? takeover : rng.NextDouble() < o.InterventionWeight ? takeover : demo;
                var (si, t) = pool[rng.NextInt(pool.Length)];
                var seg = segments[si];
                seg.Inputs[t].AsSpan().CopyTo(x.Span[(b * (In + G))..]);

                // Goal: none (dropout: x's goal part stays zero), what the memory would supply, or hindsight — a state
                // reached later in the same segment.
                if (rng.NextDouble() >= o.GoalDropout)
                {
                    var goal = seg.Retrieved is { } ret && ret[t] is { } rg && rng.NextDouble() < o.RetrievedGoalProbability ? rg : null;
                    if (goal is null)
                    {
                        var k = rng.NextDouble() < o.FinalGoalProbability ? seg.Length - 1 : Math.Min(seg.Length - 1, t + rng.NextInt(o.GoalHorizon));
                        goal = seg.Reached[k];
                    }
                    goal.AsSpan().CopyTo(x.Span[(b * (In + G) + In)..]);
                }

                // Target: the next C actions of the segment; steps past its end do not count.
                for (var c = 0; c < C && t + c < seg.Length; c++)
                    for (var d = 0; d < A; d++)
                    {
                        y.Span[b * C * A + c * A + d] = Math.Clamp(seg.Actions[t + c][d], -1f, 1f);
                        mask.Span[b * C * A + c * A + d] = 1f;
                    }
            }
            g.Reset();
            var err = g.Mul(g.Sub(policy.Net.Forward(g, x), y), mask);
            var loss = g.Mean(g.Square(err));
            opt.ZeroGrad();
            g.Backward(loss);
            opt.Step();
            last = loss.Item();
            onStep?.Invoke(step, last);
        }
        return last;
    }
}
