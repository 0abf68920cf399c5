using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Rift.Agent.Online;
using Rift.Sim;
using Rift.Sim.Supervisors;

namespace Rift.Agent.Bench;

/// <summary>Agent benchmark (configuration section <c>AgentBench</c>); the profile sets the rest.</summary>
public sealed class AgentBenchOptions
{
    /// <summary>Comma-separated tasks; empty (default) uses the profile's (quick: push; full: push, peg-insert, pick-place).</summary>
    public string Tasks { get; set; } = "";

    /// <summary>Seeds per task; 0 (default) uses the profile's (quick 3, full 5).</summary>
    [Range(0, 100)]
    public int Seeds { get; set; }

    /// <summary>Training episodes per run; 0 (default) uses the profile's (quick 24, full 60).</summary>
    [Range(0, 100000)]
    public int Episodes { get; set; }

    /// <summary>Runs executed at the same time; 0 (default) uses the processor count.</summary>
    [Range(0, 64)]
    public int Parallel { get; set; }

    /// <summary>Comma-separated condition keys to run (prior, hil, fa, rift, rlif, riftlearner, riftlearner_synth); empty (default) runs all.</summary>
    public string Conditions { get; set; } = "";
}

/// <summary>A compared condition: which learner/agent combination under which kind of supervisor.</summary>
public sealed record BenchCondition(string Key, string Label, OnlineMethod Method, SupervisorKind Supervisor);

/// <summary>Tasks, seeds and budgets of a benchmark run.</summary>
public sealed record AgentBenchProfile(string Name, IReadOnlyList<string> Tasks, IReadOnlyList<int> Seeds, int Episodes, int EvalEvery, int EvalEpisodes)
{
    public static IReadOnlyList<BenchCondition> AllConditions { get; } =
    [
        new("prior", "π0 alone", OnlineMethod.Prior, SupervisorKind.Takeover),
        new("hil", "HiL-SERL", OnlineMethod.Hil, SupervisorKind.Takeover),
        new("fa", "HiL + failure-classifier trigger (FA-RL style)", OnlineMethod.Fa, SupervisorKind.Takeover),
        new("rift", "HiL + Rift agentic intervention", OnlineMethod.Rift, SupervisorKind.Takeover),
        new("rlif", "e-stop only: RLIF", OnlineMethod.Rlif, SupervisorKind.EStop),
        new("riftlearner", "e-stop only: RIFT", OnlineMethod.RiftNoAgent, SupervisorKind.EStop),
        new("riftlearner_synth", "e-stop only: RIFT + Rift's synthetic e-stops", OnlineMethod.Rift, SupervisorKind.EStop),
    ];

    public static AgentBenchProfile Quick { get; } = new("quick", ["push"], [0, 1, 2], 24, 8, 10);
    public static AgentBenchProfile Full { get; } = new("full", SimTasks.TaskNames, [0, 1, 2, 3, 4], 60, 15, 20);

    public static AgentBenchProfile Get(string name, AgentBenchOptions o)
    {
        var p = name switch
        {
            "quick" => Quick,
            "full" => Full,
            _ => throw new ArgumentException($"Unknown profile '{name}'; known: quick, full."),
        };
        if (!string.IsNullOrWhiteSpace(o.Tasks))
        {
            var tasks = o.Tasks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var t in tasks) SimTasks.CreateTask(t);
            p = p with { Tasks = tasks };
        }
        if (o.Seeds > 0) p = p with { Seeds = Enumerable.Range(0, o.Seeds).ToArray() };
        if (o.Episodes > 0) p = p with { Episodes = o.Episodes };
        return p;
    }
}

/// <summary>One (task, seed, condition) run's outcome.</summary>
public sealed record BenchRun(string Task, int Seed, string Condition, Dictionary<string, double> Metrics, List<EpisodeLine> Episodes, List<ValueTrace> Traces, string RunDirectory);

/// <summary>All runs of a benchmark plus the aggregation the report shows.</summary>
public sealed class AgentBenchResult
{
    public required AgentBenchProfile Profile { get; init; }
    public required IReadOnlyList<BenchCondition> Conditions { get; init; }
    public required List<BenchRun> Runs { get; init; }
    public required string Directory { get; init; }
    public double WallSeconds { get; set; }

    private IEnumerable<BenchRun> Of(string condition, string? task) => Runs.Where(r => r.Condition == condition && (task is null || r.Task == task));

    /// <summary>Mean ± 95% CI over seeds of <paramref name="metric"/>; with no task, each seed's value is its average over tasks.</summary>
    public MeanCi Stat(string condition, string metric, string? task = null)
    {
        var perSeed = Of(condition, task).GroupBy(r => r.Seed)
            .Select(g => g.Select(r => r.Metrics.GetValueOrDefault(metric, double.NaN)).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average());
        return Stats.MeanCi95(perSeed);
    }

    public MeanCi Sr(string condition, string? task = null) => Stat(condition, "online/sr_eval", task);
    public MeanCi HumanIr(string condition, string? task = null) => Stat(condition, "online/human_ir_step", task);

    /// <summary>
    /// For every synthetic e-stop of <paramref name="condition"/> (from the runs' event logs): how many steps after the lowest
    /// value of the event's value window (the last EventWindow values, the trigger's own value last) the trigger fired.
    /// </summary>
    public List<int> TriggerStepsAfterMinimum(string condition)
    {
        var list = new List<int>();
        foreach (var run in Runs.Where(x => x.Condition == condition))
        {
            var path = Path.Combine(run.RunDirectory, "events.jsonl");
            if (!File.Exists(path)) continue;
            foreach (var e in Events.EventLogReader.Read(path))
            {
                if (e.Type != Events.LoopEventType.SyntheticEStop || e.Window is not { Length: > 0 } w) continue;
                var arg = 0;
                for (var i = 1; i < w.Length; i++)
                    if (w[i] <= w[arg]) arg = i;
                list.Add(w.Length - 1 - arg);
            }
        }
        return list;
    }

    /// <summary>The <c>agent/*</c> metrics of the profile run (averages over tasks and seeds).</summary>
    public Dictionary<string, double> Metrics()
    {
        var m = new Dictionary<string, double>();
        foreach (var c in Conditions)
        {
            var sr = Sr(c.Key);
            var ir = HumanIr(c.Key);
            m[$"agent/{c.Key}_sr"] = sr.Mean;
            m[$"agent/{c.Key}_sr_ci95"] = sr.HalfWidth;
            m[$"agent/{c.Key}_human_ir_step"] = ir.Mean;
            m[$"agent/{c.Key}_human_ir_step_ci95"] = ir.HalfWidth;
            m[$"agent/{c.Key}_human_ir_episode"] = Stat(c.Key, "online/human_ir_episode").Mean;
            m[$"agent/{c.Key}_takeover_rate"] = Stat(c.Key, "online/agent_takeover_rate").Mean;
        }
        if (m.TryGetValue("agent/rift_human_ir_step", out var rift) && m.TryGetValue("agent/hil_human_ir_step", out var hil))
            m["agent/ir_reduction"] = hil > 0 ? 1 - rift / hil : double.NaN;
        foreach (var task in Profile.Tasks)
        {
            var r = HumanIr("rift", task).Mean;
            var h = HumanIr("hil", task).Mean;
            if (double.IsFinite(r) && double.IsFinite(h) && h > 0) m[$"agent/{task}/ir_reduction"] = 1 - r / h;
            foreach (var c in Conditions)
            {
                m[$"agent/{task}/{c.Key}_sr"] = Sr(c.Key, task).Mean;
                m[$"agent/{task}/{c.Key}_human_ir_step"] = HumanIr(c.Key, task).Mean;
            }
        }
        foreach (var task in Profile.Tasks)
        {
            var r = HumanIr("rift", task).Mean;
            var p = HumanIr("prior", task).Mean;
            if (double.IsFinite(r) && double.IsFinite(p) && p > 0) m[$"agent/{task}/ir_reduction_vs_prior"] = 1 - r / p;
        }
        if (m.TryGetValue("agent/rift_human_ir_step", out var rr) && m.TryGetValue("agent/prior_human_ir_step", out var pr) && pr > 0)
            m["agent/ir_reduction_vs_prior"] = 1 - rr / pr;
        var afterMin = TriggerStepsAfterMinimum("rift");
        if (afterMin.Count > 0)
        {
            afterMin.Sort();
            m["agent/rift_triggers"] = afterMin.Count;
            m["agent/rift_trigger_after_min_median"] = afterMin[afterMin.Count / 2];
            m["agent/rift_trigger_near_min_rate"] = afterMin.Count(k => k <= 2) / (double)afterMin.Count;
        }
        m["agent/wall_s"] = WallSeconds;
        m["agent/runs"] = Runs.Count;
        return m;
    }
}

/// <summary>Progress of the benchmark: which run and how far.</summary>
public readonly record struct BenchProgress(string Run, int EpisodesDone, int Episodes, bool Finished);

/// <summary>
/// `rift bench agent`: every condition on the same tasks, seeds, simulated supervisor and episode budget; each
/// (task, seed) shares one setup (demonstrations, π0, first fits). Writes run folders under the benchmark folder.
/// </summary>
public static class AgentBench
{
    public static AgentBenchResult Run(AgentBenchProfile profile, IReadOnlyList<BenchCondition> conditions, OnlineSettings baseSettings, AgentBenchOptions options,
        string directory, IProgress<BenchProgress>? progress = null, Action<string>? status = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        System.IO.Directory.CreateDirectory(directory);
        var result = new AgentBenchResult { Profile = profile, Conditions = conditions, Runs = [], Directory = directory };
        var jobs = new List<(string Task, int Seed, BenchCondition Condition)>();
        foreach (var task in profile.Tasks)
            foreach (var seed in profile.Seeds)
                foreach (var c in conditions)
                    jobs.Add((task, seed, c));
        var setups = new Dictionary<(string, int), Lazy<OnlineSetup>>();
        foreach (var task in profile.Tasks)
            foreach (var seed in profile.Seeds)
            {
                var (t, s) = (task, seed);
                setups[(t, s)] = new Lazy<OnlineSetup>(() => OnlineSetup.Build(t, s, baseSettings.Online, baseSettings.Sim, supervisor: baseSettings.Supervisor), LazyThreadSafetyMode.ExecutionAndPublication);
            }
        var parallel = options.Parallel > 0 ? options.Parallel : Environment.ProcessorCount;
        var gate = new object();
        System.Threading.Tasks.Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct }, job =>
        {
            var name = $"{job.Task}/{job.Condition.Key}/seed {job.Seed}";
            var settings = RiftJson.Copy(baseSettings);
            settings.Supervisor.Kind = job.Condition.Supervisor;
            settings.Online.EvalEvery = profile.EvalEvery;
            settings.Online.EvalEpisodes = profile.EvalEpisodes;
            // Only the final checkpoint: every 5 episodes × 105 runs of the full profile wrote ≈ 45 GB of replay buffers.
            settings.Online.CheckpointEvery = 0;
            var spec = new OnlineRunSpec(job.Task, job.Condition.Method, job.Seed, profile.Episodes);
            var setup = setups[(job.Task, job.Seed)].Value;
            var runDir = Path.Combine(directory, "runs", $"{job.Task}__{job.Condition.Key}__{job.Seed}");
            if (System.IO.Directory.Exists(runDir)) System.IO.Directory.Delete(runDir, true);
            using var trainer = OnlineTrainer.Create(spec, settings, setup, runDir);
            var p = new Online.SyncProgressShim(x => progress?.Report(new BenchProgress(name, x.EpisodesDone, x.Episodes, false)));
            var r = trainer.Run(p, ct);
            lock (gate) result.Runs.Add(new BenchRun(job.Task, job.Seed, job.Condition.Key, r.Metrics, r.Episodes, r.Traces, runDir));
            progress?.Report(new BenchProgress(name, profile.Episodes, profile.Episodes, true));
        });
        result.Runs.Sort((a, b) => string.CompareOrdinal($"{a.Task}/{a.Condition}/{a.Seed:D3}", $"{b.Task}/{b.Condition}/{b.Seed:D3}"));
        result.WallSeconds = clock.Elapsed.TotalSeconds;
        return result;
    }
}
