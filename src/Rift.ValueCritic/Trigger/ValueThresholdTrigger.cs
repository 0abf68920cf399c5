using System.ComponentModel.DataAnnotations;

namespace Rift.ValueCritic;

/// <summary>Baseline trigger: a raw value threshold on the current step (the "value threshold" baseline of issue 6).</summary>
public sealed class ValueThresholdTriggerOptions
{
    /// <summary>Fires when the value is below this. Default 0.3.</summary>
    [Range(-10.0, 10.0)]
    public double Threshold { get; set; } = 0.3;

    /// <summary>Values needed since the last reset before it may fire. Default 1.</summary>
    [Range(1, 100_000)]
    public int MinSamples { get; set; } = 1;

    /// <summary>Updates after firing during which it cannot fire again. Default 8 (as RiskTrigger).</summary>
    [Range(0, 100_000)]
    public int CooldownSteps { get; set; } = 8;
}

/// <summary>Fires with <see cref="TriggerReason.ValueThreshold"/> whenever a single value falls below the threshold.</summary>
public sealed class ValueThresholdTrigger(ValueThresholdTriggerOptions options) : IRiskTrigger
{
    private readonly ValueThresholdTriggerOptions _o = options ?? throw new ArgumentNullException(nameof(options));
    private int _count;
    private int _cooldown;

    public ValueThresholdTrigger() : this(new ValueThresholdTriggerOptions()) { }

    public void Reset()
    {
        _count = 0;
        _cooldown = 0;
    }

    public TriggerReason Update(float value)
    {
        if (!float.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "ValueThresholdTrigger.Update needs a finite value.");
        if (_count < int.MaxValue) _count++;
        if (_cooldown > 0)
        {
            _cooldown--;
            return TriggerReason.None;
        }
        if (_count < _o.MinSamples || value >= _o.Threshold) return TriggerReason.None;
        _cooldown = _o.CooldownSteps;
        return TriggerReason.ValueThreshold;
    }
}
