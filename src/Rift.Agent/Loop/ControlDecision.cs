using Rift.Agent.Events;
using Rift.Learning;
using Rift.Memory;
using Rift.ValueCritic;

namespace Rift.Agent.Loop;

/// <summary>Who is in control of the robot.</summary>
public enum ControlMode : byte
{
    /// <summary>The base policy acts; the critic and trigger watch.</summary>
    Policy = 0,
    /// <summary>The recovery policy drives toward a goal from the recovery memory.</summary>
    Recovery = 1,
    /// <summary>The human acts until they hand back.</summary>
    Human = 2,
    /// <summary>The agent escalated and holds still (zero action) until the human takes over or hands back.</summary>
    AwaitingHuman = 3,
    /// <summary>Control ended for this episode: the safe stop action (zero motion) only.</summary>
    Stopped = 4,
}

/// <summary>
/// The agent side of the loop. Leave it out (null) to run policy + human only (the HiL-SERL baseline).
/// Sizes must agree: encoder dimension = critic embedding size = recovery goal size; action sizes equal the policy's.
/// </summary>
public sealed record AgentComponents(
    IFrameEncoder Encoder,
    IValueCritic Critic,
    IRiskTrigger Trigger,
    IRecoveryMemory Memory,
    IGoalConditionedPolicy RecoveryPolicy);

/// <summary>
/// The loop's decision for one control step t, taken on observation o_t.
/// <see cref="Action"/> is what to apply (always safe to apply: zero when <see cref="Stop"/>).
/// The transition of this step is (o_t, Action, o_{t+1}); <see cref="Intervention"/> is e on it.
/// </summary>
public sealed class ControlDecision
{
    /// <summary>The action to apply, in [-1, 1].</summary>
    public required float[] Action { get; init; }

    /// <summary>Who produced <see cref="Action"/>.</summary>
    public Controller Controller { get; init; }

    /// <summary>The mode that produced <see cref="Action"/>.</summary>
    public ControlMode Mode { get; init; }

    /// <summary>The mode of the next step.</summary>
    public ControlMode NextMode { get; init; }

    /// <summary>
    /// e on this step's transition: true only on a synthetic e-stop, where the policy's action is applied and the
    /// e-stop follows (RIFT Algorithm 1); the learner treats that transition as a truncation.
    /// </summary>
    public bool Intervention { get; init; }

    /// <summary>The intervention that started at this step (None otherwise).</summary>
    public InterventionKind Kind { get; init; }

    /// <summary>
    /// True for human e-stops and takeovers: the human decided on seeing o_t, so e = 1 belongs to the previous
    /// transition (the last action of the controller that lost control), as e ~ φ(s, a) is drawn after s' in RIFT.
    /// </summary>
    public bool LabelsPreviousTransition => Kind is InterventionKind.HumanEStop or InterventionKind.HumanTakeover;

    /// <summary>This step's transition ends the policy's rollout segment (synthetic e-stop): record it as truncated.</summary>
    public bool Truncate { get; init; }

    /// <summary>Control stopped at this step: <see cref="Action"/> is the safe stop and there is no learnable transition.</summary>
    public bool Stop { get; init; }

    /// <summary>The critic's value q_t = Q(z_t, a_t^π) when computed this step.</summary>
    public float? Value { get; init; }

    /// <summary>Why the trigger fired this step (None otherwise).</summary>
    public TriggerReason Trigger { get; init; }

    /// <summary>The recovery goal in use (Recovery mode) or retrieved this step.</summary>
    public RecoveryTarget? Goal { get; init; }

    /// <summary>Events of this step, in order; the last is the step's control-flag event.</summary>
    public required IReadOnlyList<LoopEvent> Events { get; init; }
}
