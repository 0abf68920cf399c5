using System.ComponentModel.DataAnnotations;

namespace Rift.ValueCritic;

/// <summary>
/// The weaker base policy used for critic training data and trigger evaluation until a learned prior is
/// available: the scripted expert with action noise and, in some episodes, a lapse (freeze, drift, jitter or
/// release) that makes it stagnate or lose progress, sometimes recovering on its own.
/// </summary>
public sealed class PerturbedExpertOptions
{
    /// <summary>
    /// Std of the Gaussian noise added to the expert's motion components, for every task. Default: unset, which means
    /// the task's own level (<see cref="DefaultActionNoise"/>); resolve with <see cref="ForTask"/>.
    /// </summary>
    [Range(0.0, 2.0)]
    public double? ActionNoise { get; set; }

    /// <summary>
    /// The task's noise level: the one at which the base policy without lapses still succeeds in about 95% of
    /// episodes, so that its failures come from the lapses. 0.25 on push and pick-place (lapse-free success 0.95 and
    /// 1.0); 0.1 on peg-insert, whose insertion tolerance makes 0.25 fail 88% of lapse-free episodes (success 0.125; 0.95 at 0.1).
    /// </summary>
    public static double DefaultActionNoise(string task) => task == "peg-insert" ? 0.1 : 0.25;

    /// <summary>A copy with <see cref="ActionNoise"/> resolved for <paramref name="task"/> (a value set in configuration wins).</summary>
    public PerturbedExpertOptions ForTask(string task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var o = (PerturbedExpertOptions)MemberwiseClone();
        o.ActionNoise ??= DefaultActionNoise(task);
        return o;
    }

    /// <summary>Probability that an episode contains a lapse. Default 0.7.</summary>
    [Range(0.0, 1.0)]
    public double LapseProbability { get; set; } = 0.7;

    /// <summary>Fraction of lapses that last to the end of the episode (the rest end and the expert resumes). Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double PermanentLapseFraction { get; set; } = 0.5;

    /// <summary>Shortest temporary lapse in steps. Default 4.</summary>
    [Range(1, 1000)]
    public int LapseMinSteps { get; set; } = 4;

    /// <summary>Longest temporary lapse in steps. Default 20.</summary>
    [Range(1, 1000)]
    public int LapseMaxSteps { get; set; } = 20;

    /// <summary>Earliest lapse start as a fraction of the episode limit. Default 0.02.</summary>
    [Range(0.0, 1.0)]
    public double LapseEarliest { get; set; } = 0.02;

    /// <summary>
    /// Latest lapse start as a fraction of the episode limit. Default 0.25: the scripted experts finish in 10–18 of
    /// the 60–80 allowed steps, so later lapses would mostly never happen.
    /// </summary>
    [Range(0.0, 1.0)]
    public double LapseLatest { get; set; } = 0.25;
}

/// <summary>What the base policy does during a lapse.</summary>
public enum LapseKind : byte
{
    None = 0,
    /// <summary>Holds still: stagnation.</summary>
    Freeze = 1,
    /// <summary>Moves steadily in one random direction: loss of progress, then stagnation at the workspace edge.</summary>
    Drift = 2,
    /// <summary>Random actions: noisy stagnation.</summary>
    Jitter = 3,
    /// <summary>Opens the gripper and lifts: drops a held object (abrupt loss), then hovers.</summary>
    Release = 4,
}

/// <summary>
/// Scripted expert + noise + lapses (see <see cref="PerturbedExpertOptions"/>). Deterministic given the episode seed;
/// <see cref="Fork"/> copies the lapse schedule and step counter with a new noise stream, for counterfactual
/// rollouts from a restored simulator state.
/// </summary>
public sealed class PerturbedExpertPolicy
{
    private readonly IExpert _expert;
    private readonly PerturbedExpertOptions _o;
    private readonly int _maxSteps;
    private Random _noise = new(0);
    private int _step;
    private float _lastGrip = 1f;
    private float _dx, _dy, _dz;
    private bool _forcedLapse;

    public PerturbedExpertPolicy(IExpert expert, PerturbedExpertOptions options, int maxSteps)
    {
        _expert = expert ?? throw new ArgumentNullException(nameof(expert));
        _o = options ?? throw new ArgumentNullException(nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        if (options.ActionNoise is null) throw new ArgumentException("PerturbedExpertOptions.ActionNoise is per task: pass options.ForTask(task).", nameof(options));
        _maxSteps = maxSteps;
    }

    public LapseKind Kind { get; private set; }

    /// <summary>First lapse step (int.MaxValue without a lapse).</summary>
    public int LapseStart { get; private set; } = int.MaxValue;

    /// <summary>First step after the lapse (int.MaxValue for a permanent lapse).</summary>
    public int LapseEnd { get; private set; } = int.MaxValue;

    public int Step => _step;

    public bool InLapse => _step >= LapseStart && _step < LapseEnd;

    /// <summary>New episode. <paramref name="forceLapse"/> forces a permanent lapse (for intervention episodes); null draws one.</summary>
    public void Reset(int seed, bool? forceLapse = null, double? noise = null)
    {
        _noise = new Random(unchecked(seed * 104729 + 3));
        _expert.Reset();
        _step = 0;
        _lastGrip = 1f;
        NoiseStd = noise ?? _o.ActionNoise!.Value;
        _forcedLapse = forceLapse == true;
        DrawSchedule(new Random(unchecked(seed * 7919 + 17)), forceLapse);
    }

    /// <summary>Draws whether a lapse happens, its kind, start, length and direction (the order fixes every episode's seed → schedule map).</summary>
    private void DrawSchedule(Random rng, bool? forceLapse)
    {
        var lapse = forceLapse ?? rng.NextDouble() < _o.LapseProbability;
        if (!lapse)
        {
            Kind = LapseKind.None;
            LapseStart = LapseEnd = int.MaxValue;
            return;
        }
        Kind = (LapseKind)(1 + rng.Next(4));
        var lo = (int)(_o.LapseEarliest * _maxSteps);
        var hi = Math.Max(lo + 1, (int)(_o.LapseLatest * _maxSteps));
        LapseStart = lo + rng.Next(hi - lo);
        LapseEnd = DrawEnd(rng, forceLapse == true);
        var angle = rng.NextDouble() * 2 * Math.PI;
        (_dx, _dy, _dz) = ((float)Math.Cos(angle), (float)Math.Sin(angle), (float)(rng.NextDouble() - 0.3));
    }

    private int DrawEnd(Random rng, bool forcePermanent)
    {
        var permanent = forcePermanent || rng.NextDouble() < _o.PermanentLapseFraction;
        return permanent ? int.MaxValue : LapseStart + _o.LapseMinSteps + rng.Next(Math.Max(1, _o.LapseMaxSteps - _o.LapseMinSteps + 1));
    }

    /// <summary>
    /// Redraws what the schedule says about steps from <see cref="Step"/> on, conditioned on what has happened before
    /// it: before a lapse, whether and when one starts (and its kind and direction) given that none has started yet;
    /// during one, whether it is permanent and when it ends given that it is still running. Rejection sampling from the
    /// same distribution as <see cref="Reset"/>, so the conditioning is exact. After a lapse has ended nothing is left to draw.
    /// </summary>
    private void RedrawFuture(Random rng)
    {
        if (_step >= LapseEnd) return;
        if (_step < LapseStart)
        {
            do DrawSchedule(rng, _forcedLapse ? true : null);
            while (LapseStart < _step);
            return;
        }
        if (_forcedLapse) return;
        do LapseEnd = DrawEnd(rng, false);
        while (LapseEnd <= _step);
    }

    /// <summary>Current noise std (the options' value unless overridden at reset).</summary>
    public double NoiseStd { get; private set; }

    /// <summary>
    /// A copy at the same step with its own noise stream, for a counterfactual rollout. With
    /// <paramref name="redrawSchedule"/> the copy also draws the rest of its lapse schedule afresh from
    /// <paramref name="noiseSeed"/>, conditioned on the past (see <see cref="RedrawFuture"/>): all of the policy's
    /// future randomness is then the copy's own. Without it the copy keeps this episode's schedule, and so knows
    /// whether and when a lapse starts or a running one ends.
    /// </summary>
    public PerturbedExpertPolicy Fork(IExpert expert, int noiseSeed, bool redrawSchedule = false)
    {
        var p = new PerturbedExpertPolicy(expert, _o, _maxSteps)
        {
            _noise = new Random(noiseSeed),
            _step = _step,
            _lastGrip = _lastGrip,
            _dx = _dx, _dy = _dy, _dz = _dz,
            _forcedLapse = _forcedLapse,
            Kind = Kind,
            LapseStart = LapseStart,
            LapseEnd = LapseEnd,
            NoiseStd = NoiseStd,
        };
        if (redrawSchedule) p.RedrawFuture(new Random(unchecked(noiseSeed * 31 + 977)));
        return p;
    }

    public void Act(Observation observation, Span<float> action)
    {
        if (InLapse)
        {
            switch (Kind)
            {
                case LapseKind.Freeze:
                    action[0] = action[1] = action[2] = 0f;
                    action[3] = _lastGrip;
                    break;
                case LapseKind.Drift:
                    action[0] = 0.7f * _dx;
                    action[1] = 0.7f * _dy;
                    action[2] = 0.5f * _dz;
                    action[3] = _lastGrip;
                    break;
                case LapseKind.Jitter:
                    for (var i = 0; i < 3; i++) action[i] = (float)(_noise.NextDouble() * 2 - 1);
                    action[3] = _lastGrip;
                    break;
                default: // Release
                    action[0] = action[1] = 0f;
                    action[2] = 0.6f;
                    action[3] = -1f;
                    break;
            }
        }
        else
        {
            _expert.Act(observation, action);
            for (var i = 0; i < 3; i++)
                action[i] = Math.Clamp(action[i] + (float)(NoiseStd * Gaussian(_noise)), -1f, 1f);
            _lastGrip = action[3];
        }
        _step++;
    }

    private static double Gaussian(Random r)
    {
        var u1 = 1.0 - r.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * r.NextDouble());
    }
}
