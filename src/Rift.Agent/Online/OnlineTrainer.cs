using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Learning;
using Rift.Memory;
using Rift.Nn;
using Rift.Sim;
using Rift.Sim.Supervisors;
using Rift.ValueCritic;

namespace Rift.Agent.Online;

/// <summary>What to run: task, method, seed and training episodes.</summary>
public sealed record OnlineRunSpec(string Task, OnlineMethod Method, int Seed, int Episodes);

/// <summary>Every component's options an online run uses (bound from configuration by the CLI; plain objects in tests).</summary>
public sealed class OnlineSettings
{
    public OnlineOptions Online { get; set; } = new();
    public SacOptions Sac { get; set; } = new();
    public RiftOptions Rift { get; set; } = new();
    public ReplayOptions Replay { get; set; } = new();
    public HilSerlOptions HilSerl { get; set; } = new();
    public ArbitrationOptions Arbitration { get; set; } = new();
    public RiskTriggerOptions Trigger { get; set; } = new();
    public SimSupervisorOptions Supervisor { get; set; } = new();
    public SimOptions Sim { get; set; } = new();
    public RecoveryMemoryOptions Memory { get; set; } = new();
    public CriticOptions Critic { get; set; } = new();
    public EventLogOptions EventLog { get; set; } = new();
    public RecoveryPolicyOptions RecoveryPolicy { get; set; } = new();
}

/// <summary>One training episode's line in <c>metrics.jsonl</c>.</summary>
public sealed record EpisodeLine(
    long Episode, int Seed, int Steps, bool Success, string EndReason, int HumanSteps, int AgentSteps,
    int SyntheticEStops, int RecoveriesStarted, int RecoveriesSucceeded, int Escalations, int HumanInterventions,
    int MemoryItems, double CumHumanIrStep, double CumSuccess, double? SrEval, double CriticLoss, double ActorLoss, double WallSeconds);

/// <summary>Per-step trace of one training episode: critic value, controller, oracle progress Φ (for plots only) and trigger steps.</summary>
public sealed record ValueTrace(long Episode, bool Success, float?[] Values, Controller[] Controllers, double[] Progress, int[] TriggerSteps, int[] HandBackSteps, int[] HumanSteps);

/// <summary>Progress of a run for a progress bar.</summary>
public readonly record struct OnlineProgress(int EpisodesDone, int Episodes, string Phase);

/// <summary>The outcome of a run.</summary>
public sealed class OnlineResult
{
    public required string RunDirectory { get; init; }
    public required OnlineRunSpec Spec { get; init; }
    public required Dictionary<string, double> Metrics { get; init; }
    public required List<EpisodeLine> Episodes { get; init; }
    public required List<ValueTrace> Traces { get; init; }
    public required bool Completed { get; init; }
}

/// <summary>
/// Online training through the arbitration loop (DESIGN.md §1, §6): each episode runs through
/// <see cref="ArbitrationLoop"/>/<see cref="EpisodeRunner"/> with the seeded simulated supervisor, its transitions
/// (synthetic e-stops e = 1 as truncation, human takeovers, agent recoveries) go to the learner, which then takes
/// UpdatesPerStep gradient steps per collected step; the critic, recovery policy (and failure classifier) are refitted
/// every RefitEvery episodes on everything collected; the recovery memory grows by the loop's insertion rule.
/// Everything lands in a run folder <c>runs/{task}__{method}__{seed}__{utc}</c>: config, metrics (JSONL, CSV),
/// events (JSONL), experience (JSONL), value traces, checkpoints. <see cref="Resume"/> continues from the last
/// checkpoint, cutting the logs back to it (the event log is the source of truth for the counters).
/// </summary>
public sealed class OnlineTrainer : IDisposable
{
    private static readonly JsonSerializerOptions Json = RiftJson.SnakeCase;

    private readonly OnlineRunSpec _spec;
    private readonly OnlineSettings _s;
    private readonly OnlineSetup _setup;
    private readonly SimEnvironment _env;
    private readonly SimEnvironment _evalEnv;
    private readonly FrameEmbeddingEnvironment? _frames;
    private readonly IFrameEncoder _loopEncoder;
    private readonly RecordingEnvironment _recEnv;
    private readonly SimulatedSupervisor _supervisor;
    private readonly IOnlineLearner _learner;
    private readonly IVectorStore? _store;
    private readonly RecoveryMemory? _memory;
    private readonly FutureValueCritic? _critic;
    private readonly FailureClassifier? _failure;
    private readonly GoalConditionedPolicy? _recovery;
    private readonly List<ExperienceEpisode> _experience = [];
    private readonly List<EpisodeLine> _lines = [];
    private readonly List<ValueTrace> _traces = [];
    private int _done;
    private double _lastSrEval = double.NaN;

    private OnlineTrainer(OnlineRunSpec spec, OnlineSettings settings, OnlineSetup setup, string runDir)
    {
        _spec = spec;
        _s = settings;
        _setup = setup;
        RunDirectory = runDir;
        Directory.CreateDirectory(runDir);
        OnlineSetup.HiddenSizes(settings.Online.Hidden); // validates Online:Hidden with a clear message
        // Frames are rendered only where the agent looks at them (Online:Encoder=Conv with the agent enabled).
        (_env, _frames) = FrameEmbeddingEnvironment.Create(spec.Task, settings.Sim, AgentEnabled ? setup.FrameEncoder : null);
        _evalEnv = _frames is null ? _env : SimTasks.Create(spec.Task, settings.Sim);
        _loopEncoder = setup.FrameEncoder is { } conv && AgentEnabled ? new FrameEmbeddingEncoder(conv) : setup.Encoder;
        _recEnv = new RecordingEnvironment(_frames is null ? _env : _frames);
        _supervisor = SimulatedSupervisor.For(_env, settings.Supervisor);
        var sac = settings.Sac.Clone();
        sac.Hidden = settings.Online.Hidden;
        sac.Seed = spec.Seed;
        _learner = spec.Method switch
        {
            OnlineMethod.Hil => new HilSerlOnlineLearner(new HilSerlLearner(setup.Prior.InputSize, setup.Prior.ActionSize, sac, settings.HilSerl, settings.Replay, setup.Prior)),
            OnlineMethod.Prior => new FrozenPolicyLearner(setup.Prior),
            OnlineMethod.Rlif => new ResidualLearner(new ResidualSac(setup.Prior, sac, CloneRift(settings.Rift, omega: 0))),
            _ => new ResidualLearner(new ResidualSac(setup.Prior, sac, settings.Rift)),
        };
        if (!AgentEnabled) return;

        var d = setup.EmbeddingSize;
        _store = VectorStore.Open(new VectorStoreOptions { Path = Path.Combine(runDir, "memory"), Fsync = FsyncPolicy.None });
        _memory = new RecoveryMemory(_store, settings.Memory, d);
        _recovery = RecoveryTrainer.Create(ObservationLayout.PolicyInputSize, d, ObservationLayout.ActionSize, RecoveryOptions(0));
        if (spec.Method == OnlineMethod.Fa) _failure = new FailureClassifier(d, 64, spec.Seed + 13);
        else _critic = new FutureValueCritic(d, ObservationLayout.ActionSize, settings.Critic, spec.Seed + 17);
    }

    public string RunDirectory { get; }
    public OnlineRunSpec Spec => _spec;
    public IOnlineLearner Learner => _learner;
    public IRecoveryMemory? Memory => _memory;
    public bool AgentEnabled => _spec.Method is OnlineMethod.Rift or OnlineMethod.Fa;

    /// <summary>The run folder name <c>{task}__{method}__{seed}__{utc}</c>.</summary>
    public static string RunName(OnlineRunSpec spec, DateTime utc) =>
        $"{spec.Task}__{MethodName(spec.Method)}__{spec.Seed}__{utc:yyyyMMddTHHmmssfffZ}";

    public static string MethodName(OnlineMethod m) => m switch
    {
        OnlineMethod.RiftNoAgent => "rift-noagent",
        _ => m.ToString().ToLowerInvariant(),
    };

    public static OnlineMethod ParseMethod(string name) => name.ToLowerInvariant() switch
    {
        "rift" => OnlineMethod.Rift,
        "hil" => OnlineMethod.Hil,
        "rift-noagent" => OnlineMethod.RiftNoAgent,
        "fa" => OnlineMethod.Fa,
        "rlif" => OnlineMethod.Rlif,
        "prior" => OnlineMethod.Prior,
        _ => throw new ArgumentException($"Unknown method '{name}'; known: rift, hil, rift-noagent, fa, rlif, prior."),
    };

    /// <summary>A fresh run in a new folder under Online:RunsDirectory (or <paramref name="runDir"/>).</summary>
    public static OnlineTrainer Create(OnlineRunSpec spec, OnlineSettings settings, OnlineSetup? setup = null, string? runDir = null)
    {
        if (spec.Episodes < 1) throw new ArgumentOutOfRangeException(nameof(spec), spec.Episodes, "Episodes must be at least 1.");
        SimTasks.CreateTask(spec.Task); // fails early on an unknown task name
        setup ??= OnlineSetup.Build(spec.Task, spec.Seed, settings.Online, settings.Sim, supervisor: settings.Supervisor);
        runDir ??= Path.Combine(settings.Online.RunsDirectory, RunName(spec, DateTime.UtcNow));
        if (Directory.Exists(runDir) && Directory.EnumerateFileSystemEntries(runDir).Any())
            throw new IOException($"Run folder {runDir} already exists and is not empty; use --resume to continue it.");
        var t = new OnlineTrainer(spec, settings, setup, runDir);
        File.WriteAllText(Path.Combine(runDir, "config.json"), JsonSerializer.Serialize(new RunConfig(spec, settings), new JsonSerializerOptions(Json) { WriteIndented = true }));
        t.InitialFit();
        return t;
    }

    /// <summary>Continues the run in <paramref name="runDir"/> from its last checkpoint (from scratch if it has none).</summary>
    public static OnlineTrainer Resume(string runDir, OnlineSetup? setup = null, int? episodes = null)
    {
        var t = Open(runDir, setup, episodes);
        var latest = Path.Combine(runDir, "checkpoints", "latest");
        if (File.Exists(latest)) t.LoadCheckpoint(Path.Combine(runDir, "checkpoints", File.ReadAllText(latest).Trim()));
        else
        {
            foreach (var f in new[] { "metrics.jsonl", "events.jsonl", "experience.jsonl" }) File.Delete(Path.Combine(runDir, f));
            t._memory?.Clear();
            t.InitialFit();
        }
        return t;
    }

    /// <summary>The run in <paramref name="runDir"/> as its config.json describes it, before any checkpoint is loaded (also used to deploy a run).</summary>
    internal static OnlineTrainer Open(string runDir, OnlineSetup? setup = null, int? episodes = null)
    {
        var configPath = Path.Combine(runDir, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{runDir} is not a run folder (no config.json).", configPath);
        var cfg = JsonSerializer.Deserialize<RunConfig>(File.ReadAllText(configPath), Json)
                  ?? throw new InvalidDataException($"{configPath}: empty config.");
        var spec = episodes is { } n ? cfg.Spec with { Episodes = n } : cfg.Spec;
        setup ??= OnlineSetup.Build(spec.Task, spec.Seed, cfg.Settings.Online, cfg.Settings.Sim, supervisor: cfg.Settings.Supervisor);
        return new OnlineTrainer(spec, cfg.Settings, setup, runDir);
    }

    /// <summary>The component options the run was configured with.</summary>
    internal OnlineSettings Settings => _s;

    /// <summary>Episodes finished (and checkpoint-consistent) so far.</summary>
    public int EpisodesDone => _done;

    // ---------------------------------------------------------------- run

    /// <summary>Runs the remaining episodes; on cancellation stops after the current episode's end (logs flushed, no checkpoint).</summary>
    public OnlineResult Run(IProgress<OnlineProgress>? progress = null, CancellationToken ct = default)
    {
        var o = _s.Online;
        var clock = Stopwatch.StartNew();
        using var events = new EventLogWriter(Path.Combine(RunDirectory, "events.jsonl"), _s.EventLog);
        var completed = true;
        while (_done < _spec.Episodes)
        {
            if (ct.IsCancellationRequested)
            {
                completed = false;
                break;
            }
            progress?.Report(new OnlineProgress(_done, _spec.Episodes, "collect"));
            var ep = _done;
            var (result, trace) = RunEpisode(ep, events, ct);
            if (result.EndReason == "cancelled")
            {
                completed = false;
                break;
            }
            var exp = ExperienceEpisode.From(result.Record, ep, RolloutKind.Base, _frames?.Embeddings);
            _experience.Add(exp);
            AppendLine("experience.jsonl", JsonSerializer.Serialize(exp, Json));

            // Learner: every transition, then UTD updates once the warm-up is collected.
            foreach (var tr in result.Record.Transitions) _learner.Observe(tr);
            double criticLoss = double.NaN, actorLoss = double.NaN;
            if (_learner.Stored >= o.WarmupTransitions)
            {
                progress?.Report(new OnlineProgress(_done, _spec.Episodes, "update"));
                var n = (int)Math.Round(result.Record.Steps * o.UpdatesPerStep);
                for (var i = 0; i < n; i++)
                {
                    var m = _learner.Update();
                    if (m is null) break;
                    if (m.TryGetValue("train/critic_loss", out var cl)) criticLoss = cl;
                    if (m.TryGetValue("train/actor_loss", out var al)) actorLoss = al;
                }
            }
            _done++;
            if (AgentEnabled && o.RefitEvery > 0 && _done % o.RefitEvery == 0 && _done < _spec.Episodes)
            {
                progress?.Report(new OnlineProgress(_done, _spec.Episodes, "refit"));
                Refit();
            }
            else if (AgentEnabled && o.RecoveryRefitEvery > 0 && _done % o.RecoveryRefitEvery == 0 && _done < _spec.Episodes)
            {
                // The human's latest takeovers are from the states the recovery policy itself failed in: learn them soon.
                progress?.Report(new OnlineProgress(_done, _spec.Episodes, "refit"));
                RefitRecovery(_spec.Seed * 1000 + _done, o.RecoveryRefitSteps);
            }
            double? sr = null;
            if ((o.EvalEvery > 0 && _done % o.EvalEvery == 0) || _done == _spec.Episodes)
            {
                progress?.Report(new OnlineProgress(_done, _spec.Episodes, "eval"));
                sr = _lastSrEval = Evaluate();
            }

            int steps = _lines.Sum(l => l.Steps) + result.Record.Steps, human = _lines.Sum(l => l.HumanSteps) + result.Record.HumanSteps;
            var line = new EpisodeLine(ep, result.Record.Seed, result.Record.Steps, result.Record.Success, result.EndReason,
                result.Record.HumanSteps, result.Record.AgentSteps, result.SyntheticEStops, result.RecoveriesStarted, result.RecoveriesSucceeded,
                result.Escalations, result.HumanInterventions, _memory?.Count ?? 0, steps == 0 ? 0 : (double)human / steps,
                (double)(_lines.Count(l => l.Success) + (result.Record.Success ? 1 : 0)) / (_lines.Count + 1), sr,
                criticLoss, actorLoss, _wallBase + clock.Elapsed.TotalSeconds);
            _lines.Add(line);
            AppendLine("metrics.jsonl", JsonSerializer.Serialize(line, Json));
            if (trace is not null) KeepTrace(trace);

            if ((o.CheckpointEvery > 0 && _done % o.CheckpointEvery == 0) || _done == _spec.Episodes)
            {
                progress?.Report(new OnlineProgress(_done, _spec.Episodes, "checkpoint"));
                events.Flush();
                SaveCheckpoint();
            }
        }
        events.Flush();
        progress?.Report(new OnlineProgress(_done, _spec.Episodes, completed ? "done" : "stopped"));
        WriteCsv();
        File.WriteAllText(Path.Combine(RunDirectory, "traces.json"), JsonSerializer.Serialize(_traces, Json));
        var metrics = Metrics();
        if (completed) File.WriteAllText(Path.Combine(RunDirectory, "result.json"), JsonSerializer.Serialize(metrics, new JsonSerializerOptions(Json) { WriteIndented = true }));
        return new OnlineResult { RunDirectory = RunDirectory, Spec = _spec, Metrics = metrics, Episodes = [.. _lines], Traces = [.. _traces], Completed = completed };
    }

    private double _wallBase;

    /// <summary>The run's <c>online/*</c> metrics; the counters come from the event log.</summary>
    public Dictionary<string, double> Metrics()
    {
        var path = Path.Combine(RunDirectory, "events.jsonl");
        var sum = File.Exists(path) ? EventSummary.From(EventLogReader.Read(path)) : EventSummary.From([]);
        return new Dictionary<string, double>
        {
            ["online/episodes"] = sum.Episodes,
            ["online/steps"] = sum.Steps,
            ["online/synthetic_estops"] = sum.SyntheticEStops,
            ["online/recoveries_started"] = sum.RecoveriesStarted,
            ["online/recoveries_succeeded"] = sum.RecoveriesSucceeded,
            ["online/escalations"] = sum.Escalations,
            ["online/human_interventions"] = sum.HumanInterventions,
            ["online/human_ir_step"] = sum.HumanIrStep,
            ["online/human_ir_episode"] = sum.HumanIrEpisode,
            ["online/agent_takeover_rate"] = sum.AgentTakeoverRate,
            ["online/train_success_rate"] = sum.Episodes == 0 ? double.NaN : (double)sum.EpisodesSucceeded / sum.Episodes,
            ["online/sr_eval"] = _lastSrEval,
            ["online/memory_items"] = _memory?.Count ?? 0,
            ["online/prior_train_success"] = _setup.PriorTrainSuccess,
            ["online/wall_s"] = _lines.Count > 0 ? _lines[^1].WallSeconds : 0,
        };
    }

    private (EpisodeResult Result, ValueTrace? Trace) RunEpisode(int ep, IEventSink log, CancellationToken ct)
    {
        var arb = RiftJson.Copy(_s.Arbitration);
        arb.Seed = OnlineSetup.StableSeed(_spec.Seed, ep, 31);
        arb.DeterministicPolicy = false;
        var steps = new MemoryEventSink();
        using var loop = new ArbitrationLoop(arb, _spec.Task, _learner, _supervisor, Agent(), new FanOutEventSink(log, steps));
        var runner = new EpisodeRunner(_recEnv, loop);
        _recEnv.Clear();
        var result = runner.Run(ep, TrainSeed(_spec.Seed, ep), ct);
        return (result, AgentEnabled ? Trace(ep, result, steps.Events, _recEnv.Progress) : null);
    }

    /// <summary>Training episode seeds, disjoint from demonstrations and evaluation.</summary>
    public static int TrainSeed(int seed, int episode) => seed * 100_000 + episode;

    /// <summary>Evaluation seeds (the same for every method of a seed).</summary>
    public static int EvalSeed(int seed, int i) => 2_000_000 + seed * 1000 + i;

    /// <summary>The agent over the current networks, with a fresh critic smoother and trigger (one per episode).</summary>
    internal AgentComponents? Agent()
    {
        if (!AgentEnabled) return null;
        IValueCritic critic = _critic is not null ? _critic : new FailureProbabilityCritic(_failure!, ObservationLayout.ActionSize);
        if (_s.Online.ValueSmoothing > 0) critic = new SmoothedCritic(critic, _s.Online.ValueSmoothing);
        IRiskTrigger trigger = _critic is not null
            ? new RiskTrigger(_s.Trigger)
            : new ValueThresholdTrigger(new ValueThresholdTriggerOptions { Threshold = 1 - _s.Online.FailureThreshold, MinSamples = 1, CooldownSteps = _s.Trigger.CooldownSteps });
        // The memory's target goes to the recovery policy only when it is near the state (state embedding: GoalGate).
        IGoalConditionedPolicy recovery = _loopEncoder is StateFeatureEncoder state ? new GoalGate(_recovery!, state, _s.Online.RecoveryGoalSimilarity) : _recovery!;
        return new AgentComponents(_loopEncoder, critic, trigger, _memory!, recovery);
    }

    /// <summary>SR: the learner's deterministic policy without any intervention (DESIGN.md §8).</summary>
    public double Evaluate()
    {
        var arb = RiftJson.Copy(_s.Arbitration);
        arb.DeterministicPolicy = true;
        var ok = 0;
        for (var i = 0; i < _s.Online.EvalEpisodes; i++)
        {
            using var loop = new ArbitrationLoop(arb, _spec.Task, _learner, NoSupervisor.Instance);
            var r = new EpisodeRunner(_evalEnv, loop).Run(i, EvalSeed(_spec.Seed, i));
            if (r.Record.Success) ok++;
        }
        return (double)ok / _s.Online.EvalEpisodes;
    }

    // ---------------------------------------------------------------- critic, recovery policy, memory

    private void InitialFit()
    {
        // HiL-SERL's demo/intervention buffer: the demonstrations and the setup takeovers (the data the recovery policy gets).
        if (_learner is HilSerlOnlineLearner hil)
            hil.Hil.Preload(_setup.Demos.SelectMany(d => d.Stretches(Controller.Policy))
                .Concat(_setup.Takeovers.SelectMany(e => e.Stretches(Controller.Human))).SelectMany(s => s)
                .Select(t => new Transition { Input = t.Input, Action = t.Action, NextInput = t.NextInput, Reward = t.Reward, Terminated = t.Terminated, Controller = Controller.Human }));
        if (!AgentEnabled) return;
        // Seed the memory with verified high-value targets from the demonstrations (source: human demonstrator).
        foreach (var d in _setup.Demos.Where(d => d.Success))
        {
            var T = d.Actions.Count;
            for (var t = T; t > 0 && (double)t / T >= _s.Memory.MinTargetValue; t -= 4)
            {
                var start = Math.Max(0, t - _s.Memory.MaxSpanSteps);
                _memory!.TryInsert(new Memory.RecoverySegment(_spec.Task, d.Z(t, _setup.Encoder), (float)start / T, (float)t / T, t - start, RecoverySource.Human, d.Episode, t));
            }
        }
        Refit();
    }

    private void Refit()
    {
        var o = _s.Online;
        var all = AllExperience();
        var seed = _spec.Seed * 1000 + _done;
        if (_critic is not null)
        {
            var samples = CriticTrainer.Samples(all.Select(e => e.ToRollout(_setup.Encoder)), _critic, ProxyValue.TimeFraction);
            var trainer = new CriticTrainer(_critic, _s.Critic, seed);
            for (var i = 0; i < o.CriticSteps; i++) trainer.Update(samples);
        }
        if (_failure is not null)
        {
            var z = new List<float[]>();
            var y = new List<bool>();
            foreach (var e in all)
            {
                var firstHuman = e.Controllers.IndexOf(Controller.Human);
                for (var t = 0; t < e.Actions.Count; t++)
                {
                    z.Add(e.Z(t, _setup.Encoder));
                    // Needs help: before a human takeover, or anywhere in a failed episode.
                    y.Add(firstHuman >= 0 ? t < firstHuman : !e.Success);
                }
            }
            _failure.Train(z, y, o.CriticSteps, 256, 1e-3f, seed);
        }
        RefitRecovery(seed, _done == 0 ? _s.RecoveryPolicy.Steps : o.RecoveryRefitSteps, all);
    }

    /// <summary>
    /// Recovery policy (UniIntervene): hindsight goal-conditioned chunk BC on the human's takeover segments — from the states
    /// π0 actually gets stuck in (setup and online) — mixed with the demonstrations, which cover states no takeover has
    /// visited yet. Each step also carries the goal the memory retrieves for its state (the goal it will get at run time).
    /// </summary>
    private void RefitRecovery(int seed, int steps, List<ExperienceEpisode>? all = null)
    {
        all ??= AllExperience();
        var Embed = FrameEmbeddingEnvironment.Lookup(all, _setup.Encoder);
        InterventionSegment Segment(List<Transition> s, bool intervention)
        {
            var seg = new InterventionSegment(s.Select(t => t.Input).ToArray(), s.Select(t => t.Action).ToArray(), s.Select(t => Embed(t.NextInput)).ToArray()) { Intervention = intervention };
            if (_s.RecoveryPolicy.RetrievedGoalProbability > 0 && _memory!.Count > 0) seg.Retrieved = s.Select(t => _memory.Query(Embed(t.Input), _spec.Task)?.Embedding).ToArray();
            return seg;
        }
        var segments = _setup.Demos.SelectMany(d => d.Stretches(Controller.Policy)).Select(s => Segment(s, false))
            .Concat(_setup.Takeovers.Concat(_experience).SelectMany(e => e.Stretches(Controller.Human)).Select(s => Segment(s, true)))
            .ToList();
        var ro = RecoveryOptions(seed);
        ro.Steps = steps;
        RecoveryTrainer.Fit(_recovery!, segments, ro);
    }

    /// <summary>Every episode the fits learn from: demonstrations, π0's rollouts and supervised rollouts, then the run's own.</summary>
    private List<ExperienceEpisode> AllExperience() =>
        _setup.Demos.Concat(_setup.PriorRollouts).Concat(_setup.Takeovers).Concat(_experience).ToList();

    private RecoveryPolicyOptions RecoveryOptions(int seed)
    {
        var r = RiftJson.Copy(_s.RecoveryPolicy);
        r.Seed = _spec.Seed * 7919 + seed + 11;
        return r;
    }

    // ---------------------------------------------------------------- checkpoints

    internal sealed record CheckpointState(int EpisodesDone, double LastSrEval, ulong[] MemoryIds, double WallSeconds);

    private sealed record RunConfig(OnlineRunSpec Spec, OnlineSettings Settings);

    private void SaveCheckpoint()
    {
        var name = $"ep{_done:D5}";
        var dir = Path.Combine(RunDirectory, "checkpoints", name);
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.CreateDirectory(dir);
        _learner.Save(Path.Combine(dir, "learner"));
        _critic?.Save(Path.Combine(dir, "critic.safetensors"));
        _failure?.Network.Save(Path.Combine(dir, "failure.safetensors"));
        _recovery?.Net.Save(Path.Combine(dir, "recovery.safetensors"));
        _store?.Flush();
        var ids = _store is null ? [] : _store.List(_s.Memory.Collection).Select(i => i.Id).ToArray();
        File.WriteAllText(Path.Combine(dir, "state.json"), JsonSerializer.Serialize(new CheckpointState(_done, _lastSrEval, ids, _lines.Count > 0 ? _lines[^1].WallSeconds : 0), Json));
        var tmp = Path.Combine(RunDirectory, "checkpoints", "latest.tmp");
        File.WriteAllText(tmp, name);
        File.Move(tmp, Path.Combine(RunDirectory, "checkpoints", "latest"), overwrite: true);
    }

    private void LoadCheckpoint(string dir)
    {
        var st = LoadWeights(dir);
        _done = st.EpisodesDone;
        _lastSrEval = st.LastSrEval;
        _wallBase = st.WallSeconds;

        // Memory: drop what was inserted after the checkpoint (those episodes run again).
        if (_store is not null)
        {
            var keep = st.MemoryIds.ToHashSet();
            var extra = _store.List(_s.Memory.Collection).Select(i => i.Id).Where(id => !keep.Contains(id)).ToList();
            if (extra.Count > 0) _store.Delete(_s.Memory.Collection, extra);
        }

        // Logs: keep only the episodes the checkpoint covers.
        var eventsPath = Path.Combine(RunDirectory, "events.jsonl");
        if (File.Exists(eventsPath))
        {
            var kept = EventLogReader.Read(eventsPath).Where(e => e.Episode < _done).ToList();
            File.WriteAllLines(eventsPath + ".tmp", kept.Select(e => e.ToJson()));
            File.Move(eventsPath + ".tmp", eventsPath, overwrite: true);
        }
        _lines.AddRange(ReadLines<EpisodeLine>("metrics.jsonl").Where(l => l.Episode < _done));
        RewriteLines("metrics.jsonl", _lines);
        _experience.AddRange(ReadLines<ExperienceEpisode>("experience.jsonl").Where(e => e.Episode < _done));
        RewriteLines("experience.jsonl", _experience);
        var tracesPath = Path.Combine(RunDirectory, "traces.json");
        if (File.Exists(tracesPath))
            _traces.AddRange((JsonSerializer.Deserialize<List<ValueTrace>>(File.ReadAllText(tracesPath), Json) ?? []).Where(t => t.Episode < _done));
    }

    /// <summary>The networks of checkpoint <paramref name="dir"/> (learner, critic or failure classifier, recovery policy); changes no file.</summary>
    internal CheckpointState LoadWeights(string dir)
    {
        var st = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(Path.Combine(dir, "state.json")), Json)
                 ?? throw new InvalidDataException($"{dir}/state.json is empty.");
        _learner.Load(Path.Combine(dir, "learner"));
        _critic?.Parameters.Load(Path.Combine(dir, "critic.safetensors"));
        _failure?.Network.Load(Path.Combine(dir, "failure.safetensors"));
        _recovery?.Net.Load(Path.Combine(dir, "recovery.safetensors"));
        return st;
    }

    private IEnumerable<T> ReadLines<T>(string file)
    {
        var path = Path.Combine(RunDirectory, file);
        if (!File.Exists(path)) yield break;
        var text = File.ReadAllText(path);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length - 1; i++) // the last piece is empty or a torn line
        {
            if (lines[i].Length == 0) continue;
            var v = JsonSerializer.Deserialize<T>(lines[i], Json);
            if (v is not null) yield return v;
        }
    }

    private void RewriteLines<T>(string file, IEnumerable<T> items)
    {
        var path = Path.Combine(RunDirectory, file);
        File.WriteAllLines(path + ".tmp", items.Select(i => JsonSerializer.Serialize(i, Json)));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private void AppendLine(string file, string line) => File.AppendAllText(Path.Combine(RunDirectory, file), line + "\n");

    private void WriteCsv()
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        w.WriteLine("episode,seed,steps,success,end_reason,human_steps,agent_steps,synthetic_estops,recoveries_started,recoveries_succeeded,escalations,human_interventions,memory_items,cum_human_ir_step,cum_success,sr_eval,critic_loss,actor_loss,wall_s");
        foreach (var l in _lines)
            w.WriteLine(string.Join(',', l.Episode, l.Seed, l.Steps, l.Success ? 1 : 0, l.EndReason, l.HumanSteps, l.AgentSteps, l.SyntheticEStops,
                l.RecoveriesStarted, l.RecoveriesSucceeded, l.Escalations, l.HumanInterventions, l.MemoryItems, F(l.CumHumanIrStep), F(l.CumSuccess),
                l.SrEval is { } s ? F(s) : "", F(l.CriticLoss), F(l.ActorLoss), F(l.WallSeconds)));
        File.WriteAllText(Path.Combine(RunDirectory, "metrics.csv"), w.ToString());
        static string F(double v) => double.IsFinite(v) ? v.ToString("G6", CultureInfo.InvariantCulture) : "";
    }

    // ---------------------------------------------------------------- traces

    private static ValueTrace Trace(long ep, EpisodeResult r, IReadOnlyList<LoopEvent> events, IReadOnlyList<double> progress)
    {
        var stepEvents = events.Where(e => e.Type == LoopEventType.Step).ToList();
        var n = r.Record.Steps;
        var values = new float?[n];
        var ctl = new Controller[n];
        foreach (var e in stepEvents)
            if (e.Step < n)
            {
                values[e.Step] = e.Value;
                ctl[e.Step] = e.Controller;
            }
        return new ValueTrace(ep, r.Record.Success, values, ctl, progress.Take(n + 1).ToArray(),
            events.Where(e => e.Type == LoopEventType.SyntheticEStop).Select(e => e.Step).ToArray(),
            events.Where(e => e.Type == LoopEventType.RecoveryEnded && e.Outcome == InterventionOutcome.Recovered).Select(e => e.Step).ToArray(),
            events.Where(e => e.Type == LoopEventType.HumanTakeover).Select(e => e.Step).ToArray());
    }

    private void KeepTrace(ValueTrace t)
    {
        // Keep up to 4 examples, preferring the full pattern: trigger → recovered hand-back → success.
        static int Score(ValueTrace v) => (v.TriggerSteps.Length > 0 ? 1 : 0) + (v.HandBackSteps.Length > 0 ? 2 : 0) + (v.Success ? 4 : 0) - (v.HumanSteps.Length > 0 ? 1 : 0);
        if (t.TriggerSteps.Length == 0) return;
        _traces.Add(t);
        if (_traces.Count > 4) _traces.Remove(_traces.OrderBy(Score).ThenBy(v => -v.Episode).First());
    }

    private static RiftOptions CloneRift(RiftOptions r, double omega)
    {
        var c = RiftJson.Copy(r);
        c.Omega = omega;
        return c;
    }

    public void Dispose()
    {
        _memory?.Dispose();
        _store?.Dispose();
        if (_evalEnv != _env) _evalEnv.Dispose();
        _env.Dispose();
    }
}

/// <summary>A supervisor that never intervenes (deterministic evaluation).</summary>
public sealed class NoSupervisor : IHumanSupervisor
{
    public static readonly NoSupervisor Instance = new();
    public void Reset(int episodeSeed) { }
    public HumanDecision Decide(in SupervisorContext context) => HumanDecision.None;
}

/// <summary>Passes an environment through and records the oracle progress Φ of every observation (plots only; never shown to the agent).</summary>
public sealed class RecordingEnvironment(IEnvironment inner) : IEnvironment
{
    private readonly List<double> _progress = [];
    public IReadOnlyList<double> Progress => _progress;
    public EnvSpec Spec => inner.Spec;
    public void Clear() => _progress.Clear();

    public (Observation Observation, StepInfo Info) Reset(int seed)
    {
        var r = inner.Reset(seed);
        _progress.Clear();
        _progress.Add(r.Info.Progress);
        return r;
    }

    public StepResult Step(ReadOnlySpan<float> action)
    {
        var r = inner.Step(action);
        _progress.Add(r.Info.Progress);
        return r;
    }

    public byte[] CaptureState() => inner.CaptureState();
    public void RestoreState(byte[] state) => inner.RestoreState(state);
    public void Dispose() { }
}
