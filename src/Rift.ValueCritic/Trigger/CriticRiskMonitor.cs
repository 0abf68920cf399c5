namespace Rift.ValueCritic;

/// <summary>
/// One control step of the agent's "has the rollout stopped making progress?" check: Q and predicted gain from
/// the future-conditioned critic, then the learned temporal trigger (or any <see cref="IRiskTrigger"/> fed with Q).
/// Allocation-free per step. Use one instance per rollout stream; <see cref="Reset"/> at episode start and after
/// a hand-back.
/// </summary>
public sealed class CriticRiskMonitor
{
    private readonly FutureValueCritic _critic;
    private readonly LearnedRiskTrigger? _learned;
    private readonly IRiskTrigger _trigger;

    public CriticRiskMonitor(FutureValueCritic critic, IRiskTrigger trigger)
    {
        _critic = critic ?? throw new ArgumentNullException(nameof(critic));
        _trigger = trigger ?? throw new ArgumentNullException(nameof(trigger));
        _learned = trigger as LearnedRiskTrigger;
    }

    /// <summary>Loads the critic and learned trigger trained for <paramref name="task"/> (models/critic/).</summary>
    public static CriticRiskMonitor LoadDefault(string task, int cooldownSteps = 8) =>
        new(FutureValueCritic.Load(FutureValueCritic.DefaultPath(task)), LearnedRiskTrigger.Load(LearnedRiskTrigger.DefaultPath(task), cooldownSteps));

    public FutureValueCritic Critic => _critic;
    public IRiskTrigger Trigger => _trigger;

    /// <summary>Q of the last step.</summary>
    public float LastValue { get; private set; }

    /// <summary>Predicted gain Q − V(z) of the last step.</summary>
    public float LastGain { get; private set; }

    public void Reset() => _trigger.Reset();

    /// <summary>Evaluates Q(z_t, a_t), updates the trigger and returns why it fired (None if it did not).</summary>
    public TriggerReason Step(ReadOnlySpan<float> z, ReadOnlySpan<float> action)
    {
        var (q, gain) = _critic.EvaluateWithGain(z, action);
        LastValue = q;
        LastGain = gain;
        return _learned is not null ? _learned.Update(q, gain) : _trigger.Update(q);
    }
}
