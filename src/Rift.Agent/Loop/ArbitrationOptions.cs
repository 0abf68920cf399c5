using System.ComponentModel.DataAnnotations;

namespace Rift.Agent.Loop;

/// <summary>What the loop does when the trigger fires and the recovery memory has no goal for the state.</summary>
public enum NoGoalBehavior
{
    /// <summary>Ask the human for help (hold still, wait for a takeover).</summary>
    Escalate = 0,
    /// <summary>End the episode: the synthetic e-stop stays an e-stop (RIFT Algorithm 1: the rollout breaks).</summary>
    EndEpisode = 1,
}

/// <summary>The arbitration loop (section <c>Arbitration</c>).</summary>
public sealed class ArbitrationOptions : IValidatableObject
{
    /// <summary>
    /// Decision deadline in milliseconds for the agent's computation of a step (encoder, policy, critic, trigger,
    /// memory query, recovery policy). An exception, NaN/Inf or a miss yields a safe stop (zero action) and a
    /// Stopped event. 0 runs inline with no deadline (exceptions and NaN are still caught). Default 50.
    /// </summary>
    [Range(0, 60_000)]
    public int DecisionDeadlineMs { get; set; } = 50;

    /// <summary>Use the policy's mode instead of sampling (evaluation). Default false (training rollouts sample).</summary>
    public bool DeterministicPolicy { get; set; }

    /// <summary>Seed of the random stream the policy samples with. Default 0.</summary>
    public int Seed { get; set; }

    /// <summary>
    /// Recovery step budget: recovery actions after which, with the value not recovered, the agent escalates to the
    /// human. Default 32 (the span of a recovery segment in the UniIntervene reference).
    /// </summary>
    [Range(1, 100_000)]
    public int RecoveryBudgetSteps { get; set; } = 32;

    /// <summary>Recovery actions executed before a hand-back is considered. Default 1.</summary>
    [Range(0, 100_000)]
    public int MinRecoverySteps { get; set; } = 1;

    /// <summary>Hand back when the value (Q of the policy's action) reaches this … Default 0.5.</summary>
    [Range(-10.0, 10.0)]
    public double HandBackValue { get; set; } = 0.5;

    /// <summary>… and exceeds the value at the trigger (or at the human takeover) by at least this. Default 0.05.</summary>
    [Range(0.0, 10.0)]
    public double HandBackMinGain { get; set; } = 0.05;

    /// <summary>Hand back when the cosine similarity of z to the goal embedding reaches this (goal reached). Default 0.95.</summary>
    [Range(-1.0, 1.0)]
    public double GoalSimilarity { get; set; } = 0.95;

    /// <summary>Escalate when, during recovery, the value falls this far below its value at the trigger. Default 0.15.</summary>
    [Range(0.0, 10.0)]
    public double EscalateValueDrop { get; set; } = 0.15;

    /// <summary>Escalate when the value has fallen on this many consecutive recovery steps (0 disables). Default 6.</summary>
    [Range(0, 100_000)]
    public int EscalateFallingSteps { get; set; } = 6;

    /// <summary>What to do when the memory has no goal. Default Escalate.</summary>
    public NoGoalBehavior NoGoal { get; set; } = NoGoalBehavior.Escalate;

    /// <summary>Steps to hold still waiting for the human after a help request before stopping (0 waits forever). Default 100.</summary>
    [Range(0, 1_000_000)]
    public int HelpTimeoutSteps { get; set; } = 100;

    /// <summary>Offer human recoveries (value restored at hand-back) to the recovery memory. Default true.</summary>
    public bool OfferHumanRecoveries { get; set; } = true;

    /// <summary>Critic values kept for events (the "values around it"). Default 8, the trigger's K.</summary>
    [Range(1, 1024)]
    public int EventWindow { get; set; } = 8;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MinRecoverySteps > RecoveryBudgetSteps)
            yield return new ValidationResult($"MinRecoverySteps ({MinRecoverySteps}) must not exceed RecoveryBudgetSteps ({RecoveryBudgetSteps}).", [nameof(MinRecoverySteps)]);
    }
}
