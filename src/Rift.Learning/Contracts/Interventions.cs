namespace Rift.Learning;

/// <summary>Who produced the action of a step.</summary>
public enum Controller : byte
{
    Policy = 0,
    Agent = 1,
    Human = 2,
}

/// <summary>How an intervention started. An intervention sets e = 1 on the transition where it starts.</summary>
public enum InterventionKind : byte
{
    None = 0,
    HumanEStop = 1,
    HumanTakeover = 2,
    SyntheticEStop = 3,
}

/// <summary>One step of experience with its control flags.</summary>
public sealed class Transition
{
    public required float[] Input { get; init; }
    public required float[] Action { get; init; }
    public float Reward { get; init; }
    public required float[] NextInput { get; init; }
    public bool Terminated { get; init; }
    public bool Truncated { get; init; }
    public Controller Controller { get; init; }

    /// <summary>e: 1 on the transition at which an intervention starts.</summary>
    public bool Intervention { get; init; }
    public InterventionKind Kind { get; init; }
}

/// <summary>A whole episode as collected.</summary>
public sealed class EpisodeRecord
{
    public required string Task { get; init; }
    public int Seed { get; init; }
    public List<Transition> Transitions { get; } = [];
    public bool Success { get; set; }
    public int HumanSteps { get; set; }
    public int AgentSteps { get; set; }
    public int Steps => Transitions.Count;
    public int InterventionCount { get; set; }
}

/// <summary>What a (real or simulated) human supervisor decides at a step.</summary>
public enum HumanDecisionKind : byte
{
    None = 0,
    EStop = 1,
    TakeOver = 2,
    HandBack = 3,
}

/// <summary>A supervisor's decision; <see cref="Action"/> is the human's action while they control the robot.</summary>
public readonly record struct HumanDecision(HumanDecisionKind Kind, float[]? Action = null)
{
    public static readonly HumanDecision None = new(HumanDecisionKind.None);
}

/// <summary>
/// What the supervisor sees at a step. <see cref="HelpRequested"/> is set while the agent has escalated to the
/// human (its recovery failed or it has no recovery goal) and holds the robot still waiting for a takeover.
/// </summary>
public readonly record struct SupervisorContext(
    int Step,
    Observation Observation,
    StepInfo Info,
    Controller CurrentController,
    bool HumanInControl,
    bool HelpRequested = false);

/// <summary>A human fallback supervisor: a person at the operator console, or a simulated one in benchmarks.</summary>
public interface IHumanSupervisor
{
    void Reset(int episodeSeed);
    HumanDecision Decide(in SupervisorContext context);
}
