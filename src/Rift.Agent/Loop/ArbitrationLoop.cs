using System.Diagnostics;
using Rift.Agent.Events;
using Rift.Learning;
using Rift.Memory;
using Rift.ValueCritic;

namespace Rift.Agent.Loop;

/// <summary>
/// Decides, every control step, who acts: the base policy, Rift's recovery policy, or a human (DESIGN.md §1).
/// Step-driven, so the same loop serves the simulator (<see cref="EpisodeRunner"/>) and a real robot bridge:
/// call <see cref="BeginEpisode"/>, then <see cref="Step"/> once per observation and apply the returned action,
/// then <see cref="EndEpisode"/>. Single-threaded use; not thread-safe.
/// <para>Order inside a step (safety first):</para>
/// <list type="number">
/// <item>Reject observations with NaN/Inf (safe stop; they never reach the agent or the learner).</item>
/// <item>Ask the human supervisor, in every mode, before any agent computation: an e-stop never waits on the
/// agent (it only appends an event).</item>
/// <item>Agent computation under the decision deadline: z = encoder(o), a^π = π(o), q = Q(z, a^π), then the trigger
/// (Policy mode) or the recovery policy (Recovery mode). A throw, NaN/Inf or a missed deadline is a safe stop.</item>
/// </list>
/// When the trigger fires (UniIntervene): a synthetic e-stop (e = 1 on this step's policy transition, truncation for
/// the learner), a goal from the recovery memory, the recovery policy until the value recovers or the goal is reached
/// (hand back) or the budget runs out / the value keeps falling (escalate to the human).
/// </summary>
public sealed class ArbitrationLoop : IDisposable
{
    private readonly ArbitrationOptions _o;
    private readonly string _task;
    private readonly IPolicy _policy;
    private readonly IHumanSupervisor _supervisor;
    private readonly AgentComponents? _agent;
    private readonly IEventSink? _sink;
    private readonly Random _rng;
    private readonly float[] _z;
    private readonly float[] _a;
    private readonly float[] _aRec;
    private readonly float[] _window;
    private int _windowCount;
    private long _seq;
    private DeadlineWorker? _worker;

    // Episode state.
    private bool _inEpisode;
    private long _episode;
    private int _step;
    private ControlMode _mode = ControlMode.Stopped;
    private float _lastQ = float.NaN;

    // Recovery state (Recovery mode).
    private RecoveryTarget? _goal;
    private int _recoverySteps;
    private int _fireStep;
    private float _fireValue;
    private float _prevRecoveryValue;
    private int _fallingSteps;

    // Human state (Human and AwaitingHuman modes).
    private int _humanStartStep;
    private float _humanStartValue;
    private int _waitSteps;

    public ArbitrationLoop(ArbitrationOptions options, string task, IPolicy policy, IHumanSupervisor supervisor, AgentComponents? agent = null, IEventSink? events = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(supervisor);
        var errors = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), errors, validateAllProperties: true))
            throw new ArgumentException($"Invalid Arbitration options: {string.Join("; ", errors.Select(e => e.ErrorMessage))}", nameof(options));
        _o = options;
        _task = task ?? throw new ArgumentNullException(nameof(task));
        _policy = policy;
        _supervisor = supervisor;
        _agent = agent;
        _sink = events;
        _rng = new Random(options.Seed);
        _a = new float[policy.ActionSize];
        _aRec = new float[policy.ActionSize];
        _window = new float[options.EventWindow];
        if (agent is not null)
        {
            var d = agent.Encoder.Dimension;
            if (agent.Critic.EmbeddingSize != d)
                throw new ArgumentException($"Critic embedding size {agent.Critic.EmbeddingSize} differs from encoder dimension {d}.", nameof(agent));
            if (agent.Critic.ActionSize != policy.ActionSize)
                throw new ArgumentException($"Critic action size {agent.Critic.ActionSize} differs from policy action size {policy.ActionSize}.", nameof(agent));
            if (agent.RecoveryPolicy.GoalSize != d)
                throw new ArgumentException($"Recovery policy goal size {agent.RecoveryPolicy.GoalSize} differs from encoder dimension {d}.", nameof(agent));
            if (agent.RecoveryPolicy.ActionSize != policy.ActionSize)
                throw new ArgumentException($"Recovery policy action size {agent.RecoveryPolicy.ActionSize} differs from policy action size {policy.ActionSize}.", nameof(agent));
            if (agent.RecoveryPolicy.InputSize != policy.InputSize)
                throw new ArgumentException($"Recovery policy input size {agent.RecoveryPolicy.InputSize} differs from policy input size {policy.InputSize}.", nameof(agent));
            _z = new float[d];
        }
        else
        {
            _z = [];
        }
    }

    public ArbitrationOptions Options => _o;
    public string Task => _task;
    public bool AgentEnabled => _agent is not null;
    public ControlMode Mode => _mode;
    public long Episode => _episode;

    /// <summary>The next step index within the episode.</summary>
    public int StepIndex => _step;

    /// <summary>True while the agent has asked the human for help.</summary>
    public bool HelpRequested => _mode == ControlMode.AwaitingHuman;

    /// <summary>The goal of the running recovery, if any.</summary>
    public RecoveryTarget? Goal => _goal;

    /// <summary>
    /// Runs the agent's computation once without a deadline and without touching the trigger or the random stream,
    /// so JIT compilation and lazy initialisation do not count against the first step's deadline.
    /// </summary>
    public void Warmup(Observation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var input = observation.PolicyInput();
        _policy.Act(input, _a, deterministic: true, _rng);
        if (_agent is null) return;
        _agent.Encoder.Encode(observation, _z);
        _agent.Critic.Evaluate(_z, _a);
        _agent.RecoveryPolicy.Act(input, _z, _aRec);
    }

    /// <summary>Starts an episode: resets the supervisor and the trigger, the mode becomes Policy.</summary>
    public void BeginEpisode(long episode, int seed)
    {
        _episode = episode;
        _step = 0;
        _inEpisode = true;
        _mode = ControlMode.Policy;
        _lastQ = float.NaN;
        _windowCount = 0;
        _goal = null;
        _waitSteps = 0;
        _supervisor.Reset(seed);
        _agent?.Trigger.Reset();
        Emit(null, new LoopEvent { Type = LoopEventType.EpisodeStarted, Source = EventSource.Loop, Mode = _mode, Seed = seed });
    }

    /// <summary>Ends the episode; an unfinished recovery or help request ends as timed out.</summary>
    public void EndEpisode(bool success, string reason)
    {
        if (!_inEpisode) return;
        if (_mode == ControlMode.Recovery) EndRecovery(null, InterventionOutcome.TimedOut, "episode_end", null);
        Emit(null, new LoopEvent { Type = LoopEventType.EpisodeEnded, Source = EventSource.Loop, Mode = _mode, Success = success, Reason = reason });
        _inEpisode = false;
        _mode = ControlMode.Stopped;
        _goal = null;
    }

    /// <summary>
    /// One control step on observation o_t. <paramref name="privilegedInfo"/> (simulation only) is passed to the
    /// supervisor and never to the agent.
    /// </summary>
    public ControlDecision Step(Observation observation, StepInfo? privilegedInfo = null)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (!_inEpisode) throw new InvalidOperationException("ArbitrationLoop.Step called outside an episode; call BeginEpisode first.");
        var clock = Stopwatch.StartNew();
        var events = new List<LoopEvent>(3);
        var step = _step++;

        if (_mode == ControlMode.Stopped)
            return new ControlDecision { Action = Zero(), Mode = ControlMode.Stopped, NextMode = ControlMode.Stopped, Stop = true, Events = events };

        // 1. Observations with NaN/Inf are rejected before anyone sees them.
        if (!ObservationCheck.IsFinite(observation, out var bad))
        {
            Emit(events, new LoopEvent { Type = LoopEventType.ObservationRejected, Source = EventSource.Safety, Reason = bad });
            return SafeStop(events, step, EventSource.Safety, "observation_rejected");
        }

        // 2. The human first, in every mode: an e-stop must not wait for the agent.
        HumanDecision human;
        try
        {
            human = _supervisor.Decide(new SupervisorContext(step, observation, privilegedInfo ?? default, CurrentController, _mode == ControlMode.Human, _mode == ControlMode.AwaitingHuman));
        }
        catch (Exception e)
        {
            Emit(events, new LoopEvent { Type = LoopEventType.AgentFault, Source = EventSource.Safety, Reason = $"supervisor: {e.GetType().Name}: {e.Message}" });
            return SafeStop(events, step, EventSource.Safety, "supervisor_fault");
        }
        clock.Restart(); // the deadline bounds the agent's computation, not the supervisor's

        if (human.Kind == HumanDecisionKind.EStop)
        {
            if (_mode == ControlMode.Recovery) EndRecovery(events, InterventionOutcome.Stopped, "human_estop", null);
            Emit(events, new LoopEvent
            {
                Type = LoopEventType.HumanEStop, Source = EventSource.Human, Mode = ControlMode.Stopped, Controller = Controller.Human,
                Kind = InterventionKind.HumanEStop, Value = NaNToNull(_lastQ), Window = Window(),
            });
            return SafeStop(events, step, EventSource.Human, "human_estop", InterventionKind.HumanEStop);
        }

        var kind = InterventionKind.None;
        if (human.Kind == HumanDecisionKind.TakeOver && _mode != ControlMode.Human)
        {
            if (_mode == ControlMode.Recovery) EndRecovery(events, InterventionOutcome.TakenOver, "human_takeover", null);
            Emit(events, new LoopEvent
            {
                Type = LoopEventType.HumanTakeover, Source = EventSource.Human, Mode = ControlMode.Human, Controller = Controller.Human,
                Kind = InterventionKind.HumanTakeover, Value = NaNToNull(_lastQ), Window = Window(),
                Reason = _mode == ControlMode.AwaitingHuman ? "help_answered" : null,
            });
            _mode = ControlMode.Human;
            _humanStartStep = step;
            _humanStartValue = _lastQ;
            kind = InterventionKind.HumanTakeover;
        }

        return _mode switch
        {
            ControlMode.Human => HumanStep(events, step, observation, human, kind, clock),
            ControlMode.AwaitingHuman => AwaitStep(events, step, observation, human, clock),
            ControlMode.Recovery => RecoveryStep(events, step, observation, clock),
            _ => PolicyStep(events, step, observation, clock),
        };
    }

    private Controller CurrentController => _mode switch
    {
        ControlMode.Human => Controller.Human,
        ControlMode.Recovery or ControlMode.AwaitingHuman => Controller.Agent,
        _ => Controller.Policy,
    };

    // ---- Policy mode: π acts, the critic and the trigger watch -------------------------------------------------------

    private ControlDecision PolicyStep(List<LoopEvent> events, int step, Observation obs, Stopwatch clock)
    {
        if (!Guard(() => Compute(obs, recoveryAction: false), clock, out var q, out var fault))
            return Fault(events, step, fault);
        var action = Clamp(_a);
        if (_agent is null)
            return Decide(events, step, action, Controller.Policy, ControlMode.Policy, ControlMode.Policy, null);

        Observe(q);
        TriggerReason reason;
        try
        {
            reason = _agent.Trigger.Update(q);
        }
        catch (Exception e)
        {
            return Fault(events, step, $"trigger: {e.GetType().Name}: {e.Message}");
        }
        if (reason == TriggerReason.None)
            return Decide(events, step, action, Controller.Policy, ControlMode.Policy, ControlMode.Policy, q);

        // Synthetic e-stop (UniIntervene trigger; RIFT Algorithm 1: a is applied, then the rollout breaks).
        var why = ReasonName(reason);
        Emit(events, new LoopEvent
        {
            Type = LoopEventType.SyntheticEStop, Source = EventSource.Agent, Mode = ControlMode.Policy, Controller = Controller.Policy,
            E = true, Kind = InterventionKind.SyntheticEStop, Value = q, Window = Window(), Reason = why,
        });
        _fireStep = step;
        _fireValue = q;

        // Where to recover: the memory's best high-value target near z_t.
        if (!Guard(() => _agent.Memory.Query(_z, _task), clock, out var goal, out fault))
            return Fault(events, step, fault);
        if (goal is not null && goal.Embedding.Length != _z.Length)
            return Fault(events, step, $"memory: goal {goal.Id} has embedding size {goal.Embedding.Length}, expected {_z.Length}");

        ControlMode next;
        if (goal is not null)
        {
            _goal = goal;
            _recoverySteps = 0;
            _fallingSteps = 0;
            _prevRecoveryValue = q;
            next = ControlMode.Recovery;
            Emit(events, new LoopEvent
            {
                Type = LoopEventType.RecoveryStarted, Source = EventSource.Agent, Mode = next, Controller = Controller.Agent,
                Value = q, GoalId = goal.Id, GoalValue = goal.Value, GoalSimilarity = Cosine(_z, goal.Embedding), Reason = why,
            });
        }
        else if (_o.NoGoal == NoGoalBehavior.Escalate)
        {
            next = ControlMode.AwaitingHuman;
            _waitSteps = 0;
            Emit(events, new LoopEvent
            {
                Type = LoopEventType.HelpRequested, Source = EventSource.Agent, Mode = next, Controller = Controller.Agent,
                Value = q, Window = Window(), Reason = "no_goal", Outcome = InterventionOutcome.NoGoal,
            });
        }
        else
        {
            next = ControlMode.Stopped;
            Emit(events, new LoopEvent
            {
                Type = LoopEventType.Stopped, Source = EventSource.Agent, Mode = next, Value = q, Reason = "no_goal", Outcome = InterventionOutcome.NoGoal,
            });
        }
        _mode = next;
        return Decide(events, step, action, Controller.Policy, ControlMode.Policy, next, q,
            intervention: true, kind: InterventionKind.SyntheticEStop, truncate: true, trigger: reason, goal: _goal);
    }

    // ---- Recovery mode: π_rec(a | o, z*) drives toward the goal ------------------------------------------------------

    private ControlDecision RecoveryStep(List<LoopEvent> events, int step, Observation obs, Stopwatch clock)
    {
        var agent = _agent!;
        var goal = _goal!;
        if (!Guard(() => Compute(obs, recoveryAction: true), clock, out var q, out var fault))
            return Fault(events, step, fault);
        Observe(q);
        var similarity = Cosine(_z, goal.Embedding);

        // Hand back: value recovered (absolute level and gain over the value at the trigger) or goal reached.
        if (_recoverySteps >= _o.MinRecoverySteps)
        {
            var valueRecovered = q >= _o.HandBackValue && q - _fireValue >= _o.HandBackMinGain;
            var goalReached = similarity >= _o.GoalSimilarity;
            if (valueRecovered || goalReached)
            {
                EndRecovery(events, InterventionOutcome.Recovered, valueRecovered ? "value_recovered" : "goal_reached", q, similarity);
                OfferToMemory(events, step, q, _fireValue, step - _fireStep, RecoverySource.Agent);
                try
                {
                    agent.Trigger.Reset();
                    agent.Trigger.Update(q);
                }
                catch (Exception e)
                {
                    return Fault(events, step, $"trigger: {e.GetType().Name}: {e.Message}");
                }
                _mode = ControlMode.Policy;
                return Decide(events, step, Clamp(_a), Controller.Policy, ControlMode.Policy, ControlMode.Policy, q);
            }
        }

        // Escalate: budget spent, value fell well below the trigger value, or kept falling.
        _fallingSteps = q < _prevRecoveryValue ? _fallingSteps + 1 : 0;
        _prevRecoveryValue = q;
        string? escalate = null;
        if (_recoverySteps >= _o.RecoveryBudgetSteps) escalate = "budget";
        else if (q <= _fireValue - _o.EscalateValueDrop) escalate = "value_drop";
        else if (_o.EscalateFallingSteps > 0 && _fallingSteps >= _o.EscalateFallingSteps) escalate = "value_falling";
        if (escalate is not null)
        {
            EndRecovery(events, InterventionOutcome.Escalated, escalate, q, similarity);
            _mode = ControlMode.AwaitingHuman;
            _waitSteps = 0;
            Emit(events, new LoopEvent
            {
                Type = LoopEventType.HelpRequested, Source = EventSource.Agent, Mode = _mode, Controller = Controller.Agent,
                Value = q, Window = Window(), GoalId = goal.Id, Reason = escalate, Outcome = InterventionOutcome.Escalated,
            });
            return Decide(events, step, Zero(), Controller.Agent, ControlMode.Recovery, ControlMode.AwaitingHuman, q, goal: goal);
        }

        _recoverySteps++;
        return Decide(events, step, Clamp(_aRec), Controller.Agent, ControlMode.Recovery, ControlMode.Recovery, q, goal: goal);
    }

    // ---- Human control -------------------------------------------------------------------------------------------

    private ControlDecision HumanStep(List<LoopEvent> events, int step, Observation obs, HumanDecision human, InterventionKind kind, Stopwatch clock)
    {
        if (human.Kind == HumanDecisionKind.HandBack && kind == InterventionKind.None)
        {
            // The policy resumes; the agent computes this step's action and value (progress restored?).
            if (!Guard(() => Compute(obs, recoveryAction: false), clock, out var q, out var fault))
                return Fault(events, step, fault);
            var span = step - _humanStartStep;
            var outcome = InterventionOutcome.HandedBack;
            if (_agent is not null)
            {
                Observe(q);
                var restored = q >= _o.HandBackValue && (float.IsNaN(_humanStartValue) || q - _humanStartValue >= _o.HandBackMinGain);
                if (restored) outcome = InterventionOutcome.Recovered;
                Emit(events, new LoopEvent
                {
                    Type = LoopEventType.HumanHandBack, Source = EventSource.Human, Mode = ControlMode.Policy, Controller = Controller.Policy,
                    Value = q, StartValue = NaNToNull(_humanStartValue), Window = Window(), Span = span, Outcome = outcome,
                });
                if (restored && _o.OfferHumanRecoveries && !float.IsNaN(_humanStartValue))
                    OfferToMemory(events, step, q, _humanStartValue, span, RecoverySource.Human);
                try
                {
                    _agent.Trigger.Reset();
                    _agent.Trigger.Update(q);
                }
                catch (Exception e)
                {
                    return Fault(events, step, $"trigger: {e.GetType().Name}: {e.Message}");
                }
            }
            else
            {
                Emit(events, new LoopEvent { Type = LoopEventType.HumanHandBack, Source = EventSource.Human, Mode = ControlMode.Policy, Span = span, Outcome = outcome });
            }
            _mode = ControlMode.Policy;
            return Decide(events, step, Clamp(_a), Controller.Policy, ControlMode.Policy, ControlMode.Policy, _agent is null ? null : q);
        }

        float[] action;
        if (human.Action is null)
        {
            action = Zero(); // no command from the operator this step: hold still
        }
        else if (human.Action.Length != _a.Length || !AllFinite(human.Action))
        {
            Emit(events, new LoopEvent
            {
                Type = LoopEventType.AgentFault, Source = EventSource.Safety,
                Reason = human.Action.Length != _a.Length ? $"human action has {human.Action.Length} values, expected {_a.Length}" : "human action has NaN/Inf",
            });
            return SafeStop(events, step, EventSource.Safety, "human_action_invalid");
        }
        else
        {
            action = Clamp(human.Action);
        }
        return Decide(events, step, action, Controller.Human, ControlMode.Human, ControlMode.Human, null, kind: kind);
    }

    private ControlDecision AwaitStep(List<LoopEvent> events, int step, Observation obs, HumanDecision human, Stopwatch clock)
    {
        if (human.Kind == HumanDecisionKind.HandBack)
        {
            // The human declines to take over: the policy resumes with a fresh trigger window.
            Emit(events, new LoopEvent { Type = LoopEventType.HumanHandBack, Source = EventSource.Human, Mode = ControlMode.Policy, Reason = "help_declined", Outcome = InterventionOutcome.HandedBack, Span = _waitSteps });
            _agent?.Trigger.Reset();
            _mode = ControlMode.Policy;
            return PolicyStep(events, step, obs, clock);
        }
        _waitSteps++;
        if (_o.HelpTimeoutSteps > 0 && _waitSteps > _o.HelpTimeoutSteps)
        {
            Emit(events, new LoopEvent { Type = LoopEventType.Stopped, Source = EventSource.Agent, Mode = ControlMode.Stopped, Reason = "help_timeout", Outcome = InterventionOutcome.TimedOut, Span = _waitSteps - 1 });
            _mode = ControlMode.Stopped;
            return new ControlDecision { Action = Zero(), Controller = Controller.Agent, Mode = ControlMode.Stopped, NextMode = ControlMode.Stopped, Stop = true, Events = Finish(events, step, ControlMode.Stopped, Controller.Agent, false, InterventionKind.None, null) };
        }
        return Decide(events, step, Zero(), Controller.Agent, ControlMode.AwaitingHuman, ControlMode.AwaitingHuman, null);
    }

    // ---- The agent's computation, under the decision deadline ------------------------------------------------------

    /// <summary>z = encoder(o), a^π = π(o), q = Q(z, a^π) and, in recovery, a_rec = π_rec(o, z*). Throws on NaN/Inf.</summary>
    private float Compute(Observation obs, bool recoveryAction)
    {
        var input = obs.PolicyInput();
        _policy.Act(input, _a, _o.DeterministicPolicy, _rng);
        RequireFinite(_a, "policy action");
        if (_agent is null) return float.NaN;
        _agent.Encoder.Encode(obs, _z);
        RequireFinite(_z, "embedding z");
        var q = _agent.Critic.Evaluate(_z, _a);
        if (!float.IsFinite(q)) throw new NonFiniteException($"critic value is {q}");
        if (recoveryAction)
        {
            _agent.RecoveryPolicy.Act(input, _goal!.Embedding, _aRec);
            RequireFinite(_aRec, "recovery action");
        }
        return q;
    }

    /// <summary>
    /// Runs <paramref name="f"/> within what is left of the step's deadline. With a deadline the work runs on the
    /// loop's own worker thread (not the shared thread pool, whose queueing delays would eat the budget) and is
    /// abandoned on a miss: the loop stops, and until the abandoned work returns every agent computation faults.
    /// </summary>
    private bool Guard<T>(Func<T> f, Stopwatch clock, out T result, out string fault)
    {
        result = default!;
        fault = "";
        try
        {
            if (_o.DecisionDeadlineMs <= 0)
            {
                result = f();
                return true;
            }
            _worker ??= new DeadlineWorker();
            if (_worker.Busy)
            {
                fault = "timeout: a computation from an earlier step is still running";
                return false;
            }
            var left = _o.DecisionDeadlineMs - clock.Elapsed.TotalMilliseconds;
            if (left <= 0)
            {
                fault = $"timeout: deadline of {_o.DecisionDeadlineMs} ms spent";
                return false;
            }
            if (!_worker.TryRun(() => f(), TimeSpan.FromMilliseconds(left), out var boxed, out var error))
            {
                fault = $"timeout: no decision within {_o.DecisionDeadlineMs} ms";
                return false;
            }
            if (error is not null) throw error;
            result = (T)boxed!;
            return true;
        }
        catch (Exception e)
        {
            fault = e is NonFiniteException ? $"nan: {e.Message}" : $"exception: {e.GetType().Name}: {e.Message}";
            return false;
        }
    }

    /// <summary>Stops the deadline worker thread (an abandoned computation is left to finish on its own).</summary>
    public void Dispose()
    {
        _worker?.Dispose();
        _worker = null;
    }

    /// <summary>One long-lived background thread that runs a step's agent computation while the loop waits with a timeout.</summary>
    private sealed class DeadlineWorker : IDisposable
    {
        private readonly Thread _thread;
        private readonly SemaphoreSlim _go = new(0);
        private readonly ManualResetEventSlim _done = new(false);
        private Func<object?>? _job;
        private object? _result;
        private Exception? _error;
        private volatile bool _busy;
        private volatile bool _stop;

        public DeadlineWorker()
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = "rift-agent-step" };
            _thread.Start();
        }

        public bool Busy => _busy;

        public bool TryRun(Func<object?> job, TimeSpan timeout, out object? result, out Exception? error)
        {
            _job = job;
            _done.Reset();
            _busy = true;
            _go.Release();
            if (!_done.Wait(timeout))
            {
                result = null;
                error = null;
                return false;
            }
            result = _result;
            error = _error;
            return true;
        }

        private void Loop()
        {
            while (true)
            {
                _go.Wait();
                if (_stop) return;
                try
                {
                    _result = _job!();
                    _error = null;
                }
                catch (Exception e)
                {
                    _result = null;
                    _error = e;
                }
                _busy = false;
                _done.Set();
            }
        }

        public void Dispose()
        {
            _stop = true;
            _go.Release();
        }
    }

    // ---- Endings ---------------------------------------------------------------------------------------------------

    private ControlDecision Fault(List<LoopEvent> events, int step, string fault)
    {
        if (_mode == ControlMode.Recovery) EndRecovery(events, InterventionOutcome.Stopped, "agent_fault", null);
        Emit(events, new LoopEvent { Type = LoopEventType.AgentFault, Source = EventSource.Safety, Mode = ControlMode.Stopped, Reason = fault, Value = NaNToNull(_lastQ) });
        return SafeStop(events, step, EventSource.Safety, fault.Split(':')[0] switch
        {
            "timeout" => "deadline",
            "nan" => "agent_nan",
            _ => "agent_exception",
        });
    }

    private ControlDecision SafeStop(List<LoopEvent> events, int step, EventSource source, string reason, InterventionKind kind = InterventionKind.None)
    {
        if (_mode == ControlMode.Recovery) EndRecovery(events, InterventionOutcome.Stopped, reason, null);
        Emit(events, new LoopEvent { Type = LoopEventType.Stopped, Source = source, Mode = ControlMode.Stopped, Reason = reason, Outcome = InterventionOutcome.Stopped });
        var controller = kind == InterventionKind.HumanEStop ? Controller.Human : CurrentController;
        _mode = ControlMode.Stopped;
        return new ControlDecision
        {
            Action = Zero(), Controller = controller, Mode = ControlMode.Stopped, NextMode = ControlMode.Stopped, Stop = true, Kind = kind,
            Events = Finish(events, step, ControlMode.Stopped, controller, false, kind, null),
        };
    }

    private void EndRecovery(List<LoopEvent>? events, InterventionOutcome outcome, string reason, float? q, float? similarity = null)
    {
        if (_goal is null) return;
        Emit(events, new LoopEvent
        {
            Type = LoopEventType.RecoveryEnded, Source = EventSource.Agent, Mode = _mode, Controller = Controller.Agent,
            Value = q, StartValue = _fireValue, Window = Window(), GoalId = _goal.Id, GoalValue = _goal.Value, GoalSimilarity = similarity,
            Reason = reason, Outcome = outcome, Span = _recoverySteps,
        });
        _goal = null;
    }

    /// <summary>Offers a finished recovery to the memory; its insertion rule decides (UniIntervene: verified recoveries only).</summary>
    private void OfferToMemory(List<LoopEvent> events, int step, float q, float startValue, int span, RecoverySource source)
    {
        var segment = new RecoverySegment(_task, (float[])_z.Clone(), startValue, q, span, source, _episode, step);
        string result;
        ulong? id = null;
        try
        {
            id = _agent!.Memory.TryInsert(segment);
            result = id is null ? "rejected" : "inserted";
        }
        catch (Exception e)
        {
            result = $"error: {e.GetType().Name}: {e.Message}";
        }
        // Recorded on the event that ended the intervention (still buffered: a step's events are sunk in Finish).
        events[^1] = events[^1] with { Memory = result, MemoryId = id };
    }

    // ---- Helpers ---------------------------------------------------------------------------------------------------

    private ControlDecision Decide(List<LoopEvent> events, int step, float[] action, Controller controller, ControlMode mode, ControlMode next, float? q,
        bool intervention = false, InterventionKind kind = InterventionKind.None, bool truncate = false, TriggerReason trigger = TriggerReason.None, RecoveryTarget? goal = null)
    {
        if (next == ControlMode.Stopped) _mode = ControlMode.Stopped;
        return new ControlDecision
        {
            Action = action, Controller = controller, Mode = mode, NextMode = next, Intervention = intervention, Kind = kind,
            Truncate = truncate, Value = q, Trigger = trigger, Goal = goal,
            Events = Finish(events, step, mode, controller, intervention, kind, q),
        };
    }

    /// <summary>Appends the step's control-flag event and emits the buffered events of the step.</summary>
    private List<LoopEvent> Finish(List<LoopEvent> events, int step, ControlMode mode, Controller controller, bool e, InterventionKind kind, float? q)
    {
        Emit(events, new LoopEvent { Type = LoopEventType.Step, Source = EventSource.Loop, Mode = mode, Controller = controller, E = e, Kind = kind, Value = q });
        foreach (var ev in events) _sink?.Append(ev);
        return events;
    }

    /// <summary>Stamps an event; step events are buffered and sunk at the end of the step, others outside a step go out at once.</summary>
    private void Emit(List<LoopEvent>? events, LoopEvent e)
    {
        var stamped = e with { Seq = _seq++, Episode = _episode, Step = events is null ? _step : _step - 1, TimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
        if (events is null) _sink?.Append(stamped);
        else events.Add(stamped);
    }

    private void Observe(float q)
    {
        _lastQ = q;
        if (_windowCount < _window.Length) _window[_windowCount++] = q;
        else
        {
            Array.Copy(_window, 1, _window, 0, _window.Length - 1);
            _window[^1] = q;
        }
    }

    private float[]? Window() => _windowCount == 0 ? null : _window.AsSpan(0, _windowCount).ToArray();

    private float[] Zero() => new float[_a.Length];

    private static float[] Clamp(float[] a)
    {
        var c = new float[a.Length];
        for (var i = 0; i < a.Length; i++) c[i] = Math.Clamp(a[i], -1f, 1f);
        return c;
    }

    private static bool AllFinite(ReadOnlySpan<float> v)
    {
        foreach (var x in v)
            if (!float.IsFinite(x)) return false;
        return true;
    }

    private static void RequireFinite(ReadOnlySpan<float> v, string what)
    {
        for (var i = 0; i < v.Length; i++)
            if (!float.IsFinite(v[i])) throw new NonFiniteException($"{what} has {v[i]} at index {i}");
    }

    /// <summary>Cosine similarity of z to the goal (goal reached at ≥ GoalSimilarity).</summary>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Cosine of vectors of sizes {a.Length} and {b.Length}.");
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0f : (float)(dot / Math.Sqrt(na * nb));
    }

    private static float? NaNToNull(float v) => float.IsNaN(v) ? null : v;

    private static string ReasonName(TriggerReason r) => r switch
    {
        TriggerReason.Decline => "decline",
        TriggerReason.Plateau => "plateau",
        TriggerReason.AbruptDrop => "abrupt_drop",
        TriggerReason.Learned => "learned",
        TriggerReason.FailureClassifier => "failure_classifier",
        TriggerReason.ValueThreshold => "value_threshold",
        _ => "none",
    };

    private sealed class NonFiniteException(string message) : Exception(message);
}

/// <summary>Checks an observation for NaN/Inf before it reaches the agent or the learner.</summary>
public static class ObservationCheck
{
    /// <summary>False, with <paramref name="problem"/> naming the field and index, if any value is NaN or infinite.</summary>
    public static bool IsFinite(Observation o, out string problem)
    {
        problem = "";
        if (!Check(o.Proprio, "proprio", ref problem)) return false;
        if (!Check(o.ObjectState, "object_state", ref problem)) return false;
        if (o.Embedding is not null && !Check(o.Embedding, "embedding", ref problem)) return false;
        return true;
    }

    private static bool Check(float[] v, string name, ref string problem)
    {
        for (var i = 0; i < v.Length; i++)
        {
            if (float.IsFinite(v[i])) continue;
            problem = $"{name}[{i}] = {v[i]}";
            return false;
        }
        return true;
    }
}
