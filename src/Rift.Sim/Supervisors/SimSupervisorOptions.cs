using System.ComponentModel.DataAnnotations;

namespace Rift.Sim.Supervisors;

/// <summary>What a simulated supervisor does when it intervenes.</summary>
public enum SupervisorKind
{
    /// <summary>Press the e-stop (RIFT): no corrective action, the rollout stops.</summary>
    EStop = 0,

    /// <summary>Take over with the scripted expert until progress is restored or for H steps, then hand back (HiL-SERL, MILE).</summary>
    Takeover = 1,
}

/// <summary>Conditions under which a simulated supervisor wants to intervene (combinable: "ValueGap, Stuck").</summary>
[Flags]
public enum SupervisorTriggers
{
    None = 0,

    /// <summary>RIFT eq. 11: the oracle value gap Q*(s, π*(s)) − Q*(s, a) of the last step exceeds B.</summary>
    ValueGap = 1,

    /// <summary>MILE's probit model: intervene with probability Φ_N((gap − c) / σ).</summary>
    Probit = 2,

    /// <summary>No oracle progress for <see cref="SimSupervisorOptions.PatienceSteps"/> steps.</summary>
    Stuck = 4,

    /// <summary>The state is unsafe (object leaving the table, gripper straining against contact).</summary>
    Unsafe = 8,
}

/// <summary>Simulated human supervisor (configuration section <c>SimSupervisor</c>); DESIGN.md §7.</summary>
public sealed class SimSupervisorOptions : IValidatableObject
{
    /// <summary>EStop or Takeover (default Takeover).</summary>
    public SupervisorKind Kind { get; set; } = SupervisorKind.Takeover;

    /// <summary>Intervention conditions, combinable (default "ValueGap, Stuck, Unsafe").</summary>
    public SupervisorTriggers Triggers { get; set; } = SupervisorTriggers.ValueGap | SupervisorTriggers.Stuck | SupervisorTriggers.Unsafe;

    /// <summary>B of RIFT eq. 11 in units of oracle progress Φ per step: intervene when the last action lost more than B
    /// progress against the expert's action. Default 0.05 (an expert step gains about 0.05–0.1).</summary>
    [Range(0.0, 1.0)]
    public double ValueGapThreshold { get; set; } = 0.05;

    /// <summary>MILE probit cost c (Φ units): the gap the human needs before intervening is likely. Default 0.05.</summary>
    [Range(-1.0, 1.0)]
    public double ProbitCost { get; set; } = 0.05;

    /// <summary>MILE probit scale σ (Φ units). Default 0.03.</summary>
    [Range(1e-6, 10.0)]
    public double ProbitSigma { get; set; } = 0.03;

    /// <summary>Patience window: steps without progress (Φ not above its best by <see cref="ProgressEpsilon"/>) before "stuck". Default 8.</summary>
    [Range(1, 10000)]
    public int PatienceSteps { get; set; } = 8;

    /// <summary>Improvement of Φ that counts as progress for the stuck rule and for takeover hand-back. Default 0.01.</summary>
    [Range(0.0, 1.0)]
    public double ProgressEpsilon { get; set; } = 0.01;

    /// <summary>Reaction delay: an intervention decided at step t happens at step t + delay. Default 0.</summary>
    [Range(0, 1000)]
    public int ReactionDelaySteps { get; set; }

    /// <summary>Probability per unwarranted step of a spurious intervention. Default 0.</summary>
    [Range(0.0, 1.0)]
    public double FalsePositiveRate { get; set; }

    /// <summary>Probability that a warranted situation (a run of steps in which the triggers hold) is missed entirely. Default 0.</summary>
    [Range(0.0, 1.0)]
    public double MissRate { get; set; }

    /// <summary>Takeover horizon H: the longest takeover in steps. Default 15.</summary>
    [Range(1, 10000)]
    public int TakeoverSteps { get; set; } = 15;

    /// <summary>Takeover ends early once Φ rose this much above its value at the start of the takeover (progress restored). Default 0.15.</summary>
    [Range(0.0, 1.0)]
    public double RestoreMargin { get; set; } = 0.15;

    /// <summary>Standard deviation of Gaussian noise added to the expert's actions during a takeover (clipped to [-1, 1]). Default 0.</summary>
    [Range(0.0, 10.0)]
    public double ActionNoise { get; set; }

    /// <summary>Seed of the supervisor's randomness, combined with each episode's seed. Default 0.</summary>
    public int Seed { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Triggers == SupervisorTriggers.None && FalsePositiveRate == 0)
            yield return new ValidationResult("Supervisor never intervenes: set Triggers or FalsePositiveRate.", [nameof(Triggers)]);
    }
}
