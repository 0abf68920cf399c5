using Rift.Learning;

namespace Rift.Sim.Supervisors;

/// <summary>Counters a simulated supervisor keeps, for checking it against its configuration.</summary>
public sealed class SupervisorStats
{
    /// <summary>Steps observed while the robot was in control.</summary>
    public int RobotSteps { get; internal set; }

    /// <summary>Robot steps on which a trigger held.</summary>
    public int WarrantedSteps { get; internal set; }

    /// <summary>Robot steps on which no trigger held (and no intervention was pending).</summary>
    public int UnwarrantedSteps { get; internal set; }

    /// <summary>Spurious interventions decided on unwarranted steps.</summary>
    public int FalsePositives { get; internal set; }

    /// <summary>Warranted situations (runs of warranted steps) that began.</summary>
    public int WarrantedOnsets { get; internal set; }

    /// <summary>Warranted situations the supervisor missed entirely.</summary>
    public int Missed { get; internal set; }

    /// <summary>Interventions carried out (e-stops or takeovers started).</summary>
    public int Interventions { get; internal set; }

    /// <summary>Steps the supervisor controlled during takeovers.</summary>
    public int HumanSteps { get; internal set; }

    /// <summary>Decision-to-action delays of the interventions carried out, in steps.</summary>
    public List<int> Delays { get; } = [];
}

/// <summary>
/// A simulated human supervisor (DESIGN.md §7) over privileged simulator state. Each robot step it evaluates its
/// triggers (RIFT eq. 11 value gap, MILE probit, stuck, unsafe); a warranted situation is missed with the miss
/// rate, an unwarranted step fires spuriously with the false-positive rate, and a decided intervention happens after
/// the reaction delay. An e-stop supervisor returns <see cref="HumanDecisionKind.EStop"/>; a takeover supervisor
/// returns <see cref="HumanDecisionKind.TakeOver"/> with the scripted expert's (noisy) action on every step it
/// controls, and <see cref="HumanDecisionKind.HandBack"/> once progress is restored, the task succeeded, or after H steps.
/// </summary>
public sealed class SimulatedSupervisor : IHumanSupervisor
{
    private readonly SimSupervisorOptions _o;
    private readonly ISupervisorOracle _oracle;
    private readonly IExpert _expert;
    private Random _rng = new(0);
    private double _best;
    private int _sinceImprovement;
    private bool _inWarranted;
    private bool _missing;
    private int _pendingAt = -1;
    private int _decidedAt;
    private bool _inControl;
    private int _controlSteps;
    private double _startProgress;

    public SimulatedSupervisor(SimSupervisorOptions options, ISupervisorOracle oracle, IExpert expert)
    {
        _o = options;
        _oracle = oracle;
        _expert = expert;
    }

    /// <summary>A supervisor over <paramref name="env"/> using its task's scripted expert.</summary>
    public static SimulatedSupervisor For(SimEnvironment env, SimSupervisorOptions options) =>
        new(options, env, env.Task.CreateExpert(env.Options.ActionScale));

    public SimSupervisorOptions Options => _o;

    public SupervisorStats Stats { get; private set; } = new();

    /// <summary>True while the supervisor controls the robot (takeover).</summary>
    public bool InControl => _inControl;

    /// <summary>Starts an episode; the randomness is drawn from the options' seed and the episode seed.</summary>
    public void Reset(int episodeSeed)
    {
        // HashCode.Combine is randomised per process; the supervisor must repeat across processes.
        _rng = new Random(unchecked(_o.Seed * 1_000_003 + episodeSeed));
        _best = double.NegativeInfinity;
        _sinceImprovement = 0;
        _inWarranted = false;
        _missing = false;
        _pendingAt = -1;
        _inControl = false;
        _controlSteps = 0;
        _expert.Reset();
    }

    /// <summary>Clears the counters.</summary>
    public void ResetStats() => Stats = new SupervisorStats();

    public HumanDecision Decide(in SupervisorContext context)
    {
        var phi = context.Info.Progress;
        if (_inControl) return Control(context, phi);

        Stats.RobotSteps++;
        TrackProgress(phi);

        // A decided intervention happens after the reaction delay, whatever the robot does meanwhile.
        if (_pendingAt >= 0)
        {
            if (context.Step < _pendingAt) return HumanDecision.None;
            _pendingAt = -1;
            return Intervene(context, phi);
        }

        // The agent asked for help (its recovery failed or it has no goal): a situation warranting a human, like the triggers.
        var warranted = context.HelpRequested || Warranted(phi);
        var decide = false;
        if (warranted)
        {
            Stats.WarrantedSteps++;
            if (!_inWarranted)
            {
                // A new warranted situation: the supervisor notices it or misses all of it.
                Stats.WarrantedOnsets++;
                _missing = _rng.NextDouble() < _o.MissRate;
                if (_missing) Stats.Missed++;
            }
            decide = !_missing;
        }
        else
        {
            Stats.UnwarrantedSteps++;
            if (_o.FalsePositiveRate > 0 && _rng.NextDouble() < _o.FalsePositiveRate)
            {
                Stats.FalsePositives++;
                decide = true;
            }
        }
        _inWarranted = warranted;
        if (!decide) return HumanDecision.None;

        _decidedAt = context.Step;
        if (_o.ReactionDelaySteps == 0) return Intervene(context, phi);
        _pendingAt = context.Step + _o.ReactionDelaySteps;
        return HumanDecision.None;
    }

    private void TrackProgress(double phi)
    {
        if (phi > _best + _o.ProgressEpsilon || double.IsNegativeInfinity(_best))
        {
            _best = phi;
            _sinceImprovement = 0;
        }
        else
        {
            _sinceImprovement++;
        }
    }

    private bool Warranted(double phi)
    {
        var t = _o.Triggers;
        if ((t & SupervisorTriggers.Unsafe) != 0 && _oracle.IsUnsafe) return true;
        if ((t & SupervisorTriggers.Stuck) != 0 && _sinceImprovement >= _o.PatienceSteps) return true;
        if ((t & (SupervisorTriggers.ValueGap | SupervisorTriggers.Probit)) == 0) return false;
        var gap = _oracle.ValueGap();
        if ((t & SupervisorTriggers.ValueGap) != 0 && gap > _o.ValueGapThreshold) return true;
        // MILE: p(ν = 1 | s) = Φ_N((Q(s, a_h) − Q(s, a) − c) / σ) with the expert's action as a_h.
        return (t & SupervisorTriggers.Probit) != 0 && _rng.NextDouble() < NormalCdf((gap - _o.ProbitCost) / _o.ProbitSigma);
    }

    private HumanDecision Intervene(in SupervisorContext context, double phi)
    {
        Stats.Interventions++;
        Stats.Delays.Add(context.Step - _decidedAt);
        _inWarranted = false;
        if (_o.Kind == SupervisorKind.EStop) return new HumanDecision(HumanDecisionKind.EStop);
        _inControl = true;
        _controlSteps = 0;
        _startProgress = phi;
        return Control(context, phi);
    }

    private HumanDecision Control(in SupervisorContext context, double phi)
    {
        var restored = _controlSteps > 0 && phi >= _startProgress + _o.RestoreMargin;
        if (_controlSteps >= _o.TakeoverSteps || restored || context.Info.Success)
        {
            _inControl = false;
            _best = phi;
            _sinceImprovement = 0;
            _inWarranted = false;
            return new HumanDecision(HumanDecisionKind.HandBack);
        }
        _controlSteps++;
        Stats.HumanSteps++;
        var action = new float[ObservationLayout.ActionSize];
        _expert.Act(context.Observation, action);
        if (_o.ActionNoise > 0)
            for (var i = 0; i < action.Length; i++)
                action[i] = (float)Math.Clamp(action[i] + _o.ActionNoise * Gaussian(), -1, 1);
        return new HumanDecision(HumanDecisionKind.TakeOver, action);
    }

    private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble())) * Math.Cos(2 * Math.PI * _rng.NextDouble());

    /// <summary>Standard normal CDF (Abramowitz–Stegun 7.1.26 on erf, error below 1.5e-7).</summary>
    public static double NormalCdf(double x)
    {
        var z = Math.Abs(x) / Math.Sqrt(2);
        var t = 1 / (1 + 0.3275911 * z);
        var erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-z * z);
        return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
    }
}
