using System.ComponentModel.DataAnnotations;

namespace Rift.ValueCritic;

/// <summary>
/// Temporal value-risk trigger (UniIntervene, "temporal value-risk critic"): looks at the last K values of the
/// future-conditioned critic and fires only on sustained decline, stagnation below a value level, or a confirmed
/// abrupt drop, so the transient dips of contact, alignment and regrasping do not fire it.
/// </summary>
public sealed class RiskTriggerOptions : IValidatableObject
{
    /// <summary>K, the number of most recent values looked at. Default 8 (UniIntervene reference window).</summary>
    [Range(3, 256)]
    public int WindowSize { get; set; } = 8;

    /// <summary>Values needed since the last reset before any rule may fire. Default 8 (a full window).</summary>
    [Range(2, 256)]
    public int MinSamples { get; set; } = 8;

    /// <summary>Decline: fires when the least-squares slope over the window is below −DeclineSlope (value per step). Default 0.01.</summary>
    [Range(0.0, 1.0)]
    public double DeclineSlope { get; set; } = 0.01;

    /// <summary>Decline: the window's first value minus its last must be at least this. Default 0.05.</summary>
    [Range(0.0, 1.0)]
    public double DeclineMinDrop { get; set; } = 0.05;

    /// <summary>
    /// Decline: fraction of the K−1 one-step differences that must be negative, so one fresh dip at the end of a flat
    /// window (which also tilts the fitted slope) is not read as a decline. Default 0.5.
    /// </summary>
    [Range(0.0, 1.0)]
    public double DeclineFallingFraction { get; set; } = 0.5;

    /// <summary>Plateau: fires when max − min over the window is at most this. Default 0.03.</summary>
    [Range(0.0, 1.0)]
    public double PlateauRange { get; set; } = 0.03;

    /// <summary>
    /// Plateau: only stagnation whose window mean is below this value level counts. Default 0.75, the value the
    /// UniIntervene reference requires of a recovery target (a "high-value state").
    /// </summary>
    [Range(0.0, 2.0)]
    public double PlateauValue { get; set; } = 0.75;

    /// <summary>Abrupt drop: a one-step fall of at least this much is a candidate. Default 0.12 (UniIntervene reference).</summary>
    [Range(0.0, 1.0)]
    public double AbruptDrop { get; set; } = 0.12;

    /// <summary>
    /// Abrupt drop: steps after the drop that must stay more than half the drop below the pre-drop value before
    /// it fires; 0 fires at the drop itself. Default 1, so a single dip that recovers at once is ignored.
    /// </summary>
    [Range(0, 64)]
    public int AbruptConfirmSteps { get; set; } = 1;

    /// <summary>Updates after firing during which the trigger cannot fire again. Default 8.</summary>
    [Range(0, 100_000)]
    public int CooldownSteps { get; set; } = 8;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MinSamples > WindowSize)
            yield return new ValidationResult($"MinSamples ({MinSamples}) must not exceed WindowSize ({WindowSize}).", [nameof(MinSamples)]);
        if (AbruptConfirmSteps >= WindowSize)
            yield return new ValidationResult($"AbruptConfirmSteps ({AbruptConfirmSteps}) must be below WindowSize ({WindowSize}).", [nameof(AbruptConfirmSteps)]);
    }
}

/// <summary>
/// The rule-based temporal value-risk trigger. Rules, checked in this order on every update once
/// <see cref="RiskTriggerOptions.MinSamples"/> values are in and no cooldown is running:
/// <list type="number">
/// <item>Abrupt drop (UniIntervene reference, drop 0.12): a one-step fall ≥ AbruptDrop that has not recovered by
/// half within AbruptConfirmSteps further steps.</item>
/// <item>Sustained decline (UniIntervene: "sustained degradation"): least-squares slope &lt; −DeclineSlope, net drop
/// over the window ≥ DeclineMinDrop, and at least DeclineFallingFraction of the steps falling.</item>
/// <item>Plateau (UniIntervene: "sustained stagnation ... below a value level"): window range ≤ PlateauRange with
/// window mean &lt; PlateauValue.</item>
/// </list>
/// Allocation-free; one instance per rollout stream, not thread-safe.
/// </summary>
public sealed class RiskTrigger : IRiskTrigger
{
    private readonly RiskTriggerOptions _o;
    private readonly float[] _ring;
    private int _count;       // values since reset (saturates at int.MaxValue in practice never)
    private int _head;        // index of the next write
    private int _cooldown;    // updates left before firing is allowed again

    public RiskTrigger(RiskTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
            throw new ArgumentException($"Invalid RiskTrigger options: {string.Join("; ", errors.Select(e => e.ErrorMessage))}", nameof(options));
        _o = options;
        _ring = new float[options.WindowSize];
    }

    public RiskTrigger() : this(new RiskTriggerOptions()) { }

    public RiskTriggerOptions Options => _o;

    /// <summary>Values held (at most K).</summary>
    public int Count => Math.Min(_count, _ring.Length);

    /// <summary>Why the trigger last fired (None before the first firing or after a reset).</summary>
    public TriggerReason LastReason { get; private set; }

    /// <summary>Copies the window, oldest first, into <paramref name="destination"/>; returns the number of values.</summary>
    public int CopyWindow(Span<float> destination)
    {
        var n = Count;
        if (destination.Length < n) throw new ArgumentException($"Destination holds {destination.Length} values, window has {n}.", nameof(destination));
        for (var i = 0; i < n; i++) destination[i] = At(i, n);
        return n;
    }

    public void Reset()
    {
        _count = 0;
        _head = 0;
        _cooldown = 0;
        LastReason = TriggerReason.None;
    }

    public TriggerReason Update(float value)
    {
        if (!float.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "RiskTrigger.Update needs a finite value.");
        _ring[_head] = value;
        _head = (_head + 1) % _ring.Length;
        if (_count < int.MaxValue) _count++;
        if (_cooldown > 0)
        {
            _cooldown--;
            return TriggerReason.None;
        }
        if (_count < _o.MinSamples) return TriggerReason.None;

        var reason = Evaluate();
        if (reason != TriggerReason.None)
        {
            LastReason = reason;
            _cooldown = _o.CooldownSteps;
        }
        return reason;
    }

    /// <summary>Value i of the current window, oldest first (window length n).</summary>
    private float At(int i, int n) => _ring[(_head - n + i + 2 * _ring.Length) % _ring.Length];

    private TriggerReason Evaluate()
    {
        var n = Count;

        // Abrupt drop, confirmed: the drop happened AbruptConfirmSteps ago and every value since stays more than
        // half the drop below the level before it (a transient dip climbs back at once and never qualifies).
        var c = _o.AbruptConfirmSteps;
        if (n >= c + 2)
        {
            var before = At(n - c - 2, n);
            var after = At(n - c - 1, n);
            var drop = before - after;
            if (drop >= _o.AbruptDrop - 1e-6)
            {
                var held = true;
                for (var i = n - c; i < n; i++)
                    if (At(i, n) > before - drop / 2) { held = false; break; }
                if (held) return TriggerReason.AbruptDrop;
            }
        }

        // Sustained decline: least-squares slope of value on step index, x centred on the window.
        double meanX = (n - 1) / 2.0, sumY = 0, sxy = 0, sxx = 0;
        float min = float.MaxValue, max = float.MinValue;
        var falling = 0;
        for (var i = 0; i < n; i++)
        {
            var y = At(i, n);
            sumY += y;
            min = Math.Min(min, y);
            max = Math.Max(max, y);
            if (i > 0 && y < At(i - 1, n)) falling++;
        }
        var meanY = sumY / n;
        for (var i = 0; i < n; i++)
        {
            var dx = i - meanX;
            sxy += dx * (At(i, n) - meanY);
            sxx += dx * dx;
        }
        var slope = sxy / sxx;
        var netDrop = At(0, n) - At(n - 1, n);
        if (slope < -_o.DeclineSlope && netDrop >= _o.DeclineMinDrop && falling >= _o.DeclineFallingFraction * (n - 1))
            return TriggerReason.Decline;

        // Plateau: stagnation below the level of a high-value state.
        if (max - min <= _o.PlateauRange && meanY < _o.PlateauValue)
            return TriggerReason.Plateau;

        return TriggerReason.None;
    }
}
