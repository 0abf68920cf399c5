using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Learning;
using Rift.Memory;
using Rift.ValueCritic;

namespace Rift.Agent.Tests.Loop;

/// <summary>Encoder: z from a script over the harness step, default the observation's supplied embedding.</summary>
internal sealed class FakeEncoder(int dimension, Func<Observation, float[]>? z = null) : IFrameEncoder
{
    public int Dimension => dimension;
    public int Calls;

    public void Encode(Observation observation, Span<float> output)
    {
        Calls++;
        var v = z?.Invoke(observation) ?? observation.Embedding ?? throw new ArgumentException("no embedding");
        v.CopyTo(output);
    }
}

/// <summary>Critic returning scripted q values; can sleep or throw to test the deadline.</summary>
internal sealed class ScriptedCritic(int embeddingSize, int actionSize, Func<float> q) : IValueCritic
{
    public int EmbeddingSize => embeddingSize;
    public int ActionSize => actionSize;
    public int Calls;
    public int SleepMs;
    public bool Throw;

    public float Evaluate(ReadOnlySpan<float> z, ReadOnlySpan<float> action)
    {
        Calls++;
        if (SleepMs > 0) Thread.Sleep(SleepMs);
        if (Throw) throw new InvalidOperationException("critic exploded");
        return q();
    }
}

internal sealed class FakePolicy(int inputSize, float[] action) : IPolicy
{
    public int InputSize => inputSize;
    public int ActionSize => Action.Length;
    public int Calls;
    public float[] Action = action;

    public void Act(ReadOnlySpan<float> input, Span<float> output, bool deterministic, Random rng)
    {
        Calls++;
        Action.CopyTo(output);
    }
}

internal sealed class FakeRecoveryPolicy(int inputSize, int goalSize, float[] action) : IGoalConditionedPolicy
{
    public int InputSize => inputSize;
    public int GoalSize => goalSize;
    public int ActionSize => action.Length;
    public int Calls;
    public List<float[]> Goals = [];

    public void Act(ReadOnlySpan<float> input, ReadOnlySpan<float> goal, Span<float> output)
    {
        Calls++;
        Goals.Add(goal.ToArray());
        action.CopyTo(output);
    }
}

internal sealed class FakeMemory(RecoveryTarget? target) : IRecoveryMemory
{
    public RecoveryTarget? Target = target;
    public List<RecoverySegment> Inserted = [];
    public int Queries;
    public int Count => Inserted.Count;

    public ulong? TryInsert(RecoverySegment segment)
    {
        Inserted.Add(segment);
        return (ulong)(100 + Inserted.Count);
    }

    public RecoveryTarget? Query(ReadOnlySpan<float> embedding, string task)
    {
        Queries++;
        return Target;
    }
}

internal sealed class ScriptedSupervisor(Func<SupervisorContext, HumanDecision>? decide = null) : IHumanSupervisor
{
    public List<SupervisorContext> Seen = [];
    public int Resets;
    public Func<SupervisorContext, HumanDecision>? Decide_ = decide;

    public void Reset(int episodeSeed) => Resets++;

    public HumanDecision Decide(in SupervisorContext context)
    {
        Seen.Add(context);
        return Decide_?.Invoke(context) ?? HumanDecision.None;
    }
}

/// <summary>A loop over fakes whose critic returns q(step) for the step being decided.</summary>
internal sealed class Harness
{
    public const int D = 3;
    public static readonly float[] PolicyAction = [0.5f, 0f];
    public static readonly float[] RecoveryAction = [-0.3f, 1f];
    public static readonly float[] GoalEmbedding = [0f, 1f, 0f];

    public int T;
    public Func<int, float> Q = _ => 0.5f;
    public Func<int, float[]> Z = _ => [1f, 0f, 0f];
    public readonly FakeEncoder Encoder;
    public readonly ScriptedCritic Critic;
    public readonly FakePolicy Policy = new(2, (float[])PolicyAction.Clone());
    public readonly FakeRecoveryPolicy Recovery = new(2, D, RecoveryAction);
    public readonly FakeMemory Memory = new(new RecoveryTarget(7, GoalEmbedding, 0.9f, 0.8f, RecoverySource.Agent, 0, 12));
    public readonly ScriptedSupervisor Supervisor = new();
    public readonly MemoryEventSink Sink = new();
    public readonly RiskTrigger Trigger = new();
    public readonly ArbitrationLoop Loop;
    public readonly List<ControlDecision> Decisions = [];

    public Harness(ArbitrationOptions? options = null, bool agent = true, IEventSink? extraSink = null)
    {
        Encoder = new FakeEncoder(D, _ => Z(T));
        Critic = new ScriptedCritic(D, 2, () => Q(T));
        var o = options ?? new ArbitrationOptions { DecisionDeadlineMs = 0 };
        Loop = new ArbitrationLoop(o, "fake", Policy, Supervisor,
            agent ? new AgentComponents(Encoder, Critic, Trigger, Memory, Recovery) : null,
            extraSink is null ? Sink : new FanOutEventSink(Sink, extraSink));
    }

    public static Observation Obs(float x = 0.1f) => new() { Proprio = [x], ObjectState = [0.2f] };

    public ControlDecision Step(Observation? obs = null)
    {
        T = Loop.StepIndex;
        var d = Loop.Step(obs ?? Obs());
        Decisions.Add(d);
        return d;
    }

    public void Run(int steps)
    {
        for (var i = 0; i < steps; i++) Step();
    }

    /// <summary>Rising to 0.38 over steps 0–9, then flat at 0.3: the plateau rule fires at step 17.</summary>
    public static float StallThenValue(int t, Func<int, float> after) => t < 10 ? 0.2f + 0.02f * t : t <= 17 ? 0.3f : after(t);
}

/// <summary>A 1-D world: x moves by 0.05·action[0] per step; success (terminated) at x ≥ 1. Embedding (x, 1−x, 0.5).</summary>
internal sealed class FakeEnvironment(int maxSteps = 60, int nanAtStep = -1) : IEnvironment
{
    public float X;
    public int StepCount;
    public int Steps;

    public EnvSpec Spec { get; } = new("fake", 2, 2, maxSteps, 0.05);

    private Observation Obs() => new()
    {
        Proprio = [StepCount == nanAtStep ? float.NaN : X],
        ObjectState = [1f],
        Embedding = [X, 1 - X, 0.5f],
    };

    public (Observation Observation, StepInfo Info) Reset(int seed)
    {
        X = 0.1f;
        StepCount = 0;
        return (Obs(), new StepInfo(X, false));
    }

    public StepResult Step(ReadOnlySpan<float> action)
    {
        Steps++;
        StepCount++;
        X = Math.Clamp(X + 0.05f * action[0], 0f, 1f);
        var success = X >= 1f;
        return new StepResult(Obs(), success ? 1 : 0, success, StepCount >= Spec.MaxEpisodeSteps, new StepInfo(X, success));
    }

    public byte[] CaptureState() => BitConverter.GetBytes(X);
    public void RestoreState(byte[] state) => X = BitConverter.ToSingle(state);
    public void Dispose() { }
}
