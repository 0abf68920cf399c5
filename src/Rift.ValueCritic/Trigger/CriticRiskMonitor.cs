namespace Rift.ValueCritic;

/// <summary>
/// One control step of the agent's "has the rollout stopped making progress?" check: Q and predicted gain from
/// the future-conditioned critic (and V₀(z_t) when the learned trigger uses it), then the learned temporal trigger (or any <see cref="IRiskTrigger"/> fed with Q).
/// It is itself the <see cref="IValueCritic"/> and its <see cref="Trigger"/> is the matching
/// <see cref="IRiskTrigger"/>, so a loop that calls <c>critic.Evaluate(z, a)</c> and then
/// <c>trigger.Update(q)</c> feeds the learned trigger the gain of the same step. Allocation-free per step.
/// One instance per rollout stream; reset the trigger at episode start and after a hand-back.
/// </summary>
public sealed class CriticRiskMonitor : IValueCritic
{
    private readonly FutureValueCritic _critic;
    private readonly LearnedRiskTrigger? _learned;
    private readonly IRiskTrigger _inner;
    private readonly float[] _previous; // a_{t−h+1..t−1} for the gain head, oldest first
    private bool _started;

    public CriticRiskMonitor(FutureValueCritic critic, IRiskTrigger trigger)
    {
        _critic = critic ?? throw new ArgumentNullException(nameof(critic));
        _inner = trigger ?? throw new ArgumentNullException(nameof(trigger));
        _learned = trigger as LearnedRiskTrigger;
        _previous = new float[critic.PreviousActionsLength];
        Trigger = new PairedTrigger(this);
    }

    /// <summary>Loads the critic and learned trigger trained for <paramref name="task"/> (models/critic/).</summary>
    public static CriticRiskMonitor LoadDefault(string task, int cooldownSteps = 8) =>
        new(FutureValueCritic.Load(FutureValueCritic.DefaultPath(task)), LearnedRiskTrigger.Load(LearnedRiskTrigger.DefaultPath(task), cooldownSteps));

    public FutureValueCritic Critic => _critic;

    /// <summary>The wrapped trigger (learned or rule-based).</summary>
    public IRiskTrigger InnerTrigger => _inner;

    /// <summary>
    /// The trigger to call after <see cref="Evaluate"/>: <c>Update(q)</c> forwards q and, for a learned trigger
    /// trained with gains, the gain computed by the last <see cref="Evaluate"/>.
    /// </summary>
    public IRiskTrigger Trigger { get; }

    public int EmbeddingSize => _critic.EmbeddingSize;
    public int ActionSize => _critic.ActionSize;

    /// <summary>Q of the last step.</summary>
    public float LastValue { get; private set; }

    /// <summary>The gain head's output G of the last step (see <see cref="FutureValueCritic.EvaluateWithGain(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>).</summary>
    public float LastGain { get; private set; }

    /// <summary>Current-latent value V₀(z_t) of the last step (computed only for a learned trigger that uses it).</summary>
    public float LastCurrentValue { get; private set; }

    /// <summary>New stream (episode start, or after a hand-back): clears the trigger's window and the action history.</summary>
    public void Reset()
    {
        _inner.Reset();
        _started = false;
    }

    /// <summary>Q(z, a) (recording the gain for <see cref="Trigger"/>; a_t joins the gain head's action history).</summary>
    public float Evaluate(ReadOnlySpan<float> z, ReadOnlySpan<float> action)
    {
        var na = _critic.ActionSize;
        if (action.Length != na) throw new ArgumentException($"Action has {action.Length} components, the critic expects {na}.", nameof(action));
        if (!_started)
            for (var j = 0; j < _previous.Length; j += na) action.CopyTo(_previous.AsSpan(j, na));
        _started = true;
        (LastValue, LastGain) = _critic.EvaluateWithGain(z, action, _previous);
        if (_previous.Length > 0)
        {
            _previous.AsSpan(na).CopyTo(_previous);
            action.CopyTo(_previous.AsSpan(_previous.Length - na));
        }
        if (_learned is { UsesCurrentValue: true }) LastCurrentValue = _critic.EvaluateNoFuture(z);
        return LastValue;
    }

    /// <summary>Evaluates Q(z_t, a_t), updates the trigger and returns why it fired (None if it did not).</summary>
    public TriggerReason Step(ReadOnlySpan<float> z, ReadOnlySpan<float> action) => Trigger.Update(Evaluate(z, action));

    private sealed class PairedTrigger(CriticRiskMonitor m) : IRiskTrigger
    {
        public void Reset() => m.Reset();

        public TriggerReason Update(float value) =>
            m._learned is { } l && (l.UsesGain || l.UsesCurrentValue) ? l.Update(value, m.LastGain, m.LastCurrentValue) : m._inner.Update(value);
    }
}
