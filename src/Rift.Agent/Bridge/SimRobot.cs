using Rift.Agent.Loop;
using Rift.Learning;
using Rift.Sim;

namespace Rift.Agent.Bridge;

/// <summary>How a simulated robot runs: episodes, seeds, evaluation episodes, pacing.</summary>
public sealed record SimRunSettings(string Task, int Episodes, int Seed, int EvalEpisodes = 0, int StepDelayMs = 0)
{
    /// <summary>Seed of training episode i (the environment's reset and the supervisor's reset).</summary>
    public int EpisodeSeed(int i) => unchecked(Seed * 1000 + i);

    /// <summary>Seed of evaluation episode i (disjoint from training seeds).</summary>
    public int EvalSeed(int i) => unchecked(Seed * 1000 + 500_000 + i);
}

/// <summary>Training episodes and evaluation successes of a run.</summary>
public sealed record SimRunResult(IReadOnlyList<EpisodeSummaryWire> Episodes, IReadOnlyList<bool> EvalSuccesses, int EStopsReceived)
{
    /// <summary>
    /// The online metrics of <c>rift train online</c>: episodes, synthetic e-stops, successful recoveries, escalations,
    /// human interventions (e-stops + takeovers), human IR (step) = human-controlled steps ÷ steps, and SR of
    /// deterministic evaluation without interventions (when evaluation episodes ran).
    /// </summary>
    public Dictionary<string, double> Metrics()
    {
        var steps = Episodes.Sum(e => e.Steps);
        var m = new Dictionary<string, double>
        {
            ["online/episodes"] = Episodes.Count,
            ["online/steps"] = steps,
            ["online/synthetic_estops"] = Episodes.Sum(e => e.SyntheticEStops),
            ["online/recoveries_succeeded"] = Episodes.Sum(e => e.RecoveriesSucceeded),
            ["online/escalations"] = Episodes.Sum(e => e.Escalations),
            ["online/human_interventions"] = Episodes.Sum(e => e.HumanEStops + e.HumanTakeovers),
            ["online/human_ir_step"] = steps == 0 ? 0 : (double)Episodes.Sum(e => e.HumanSteps) / steps,
            ["online/human_ir_episode"] = Episodes.Count == 0 ? 0 : (double)Episodes.Count(e => e.HumanEStops + e.HumanTakeovers > 0) / Episodes.Count,
            ["online/success_rate"] = Episodes.Count == 0 ? 0 : (double)Episodes.Count(e => e.Success) / Episodes.Count,
        };
        if (EvalSuccesses.Count > 0) m["online/sr_eval"] = (double)EvalSuccesses.Count(s => s) / EvalSuccesses.Count;
        return m;
    }
}

/// <summary>
/// Drives a simulated task as a robot would: through the bridge (<see cref="RunBridgeAsync"/>), or in process through
/// <see cref="EpisodeRunner"/> with the same components (<see cref="RunInProcess"/>), so the two can be compared.
/// In the bridge run the simulated human sits on the robot side (it needs privileged simulator state) and its
/// decision travels with each observation, like a teleop device next to a real robot.
/// </summary>
public static class SimRobot
{
    public static async Task<SimRunResult> RunBridgeAsync(BridgeClient client, IEnvironment env, IHumanSupervisor supervisor, SimRunSettings s,
        Action<int>? onEpisode = null, CancellationToken ct = default)
    {
        var spec = env.Spec;
        var episodes = new List<EpisodeSummaryWire>();
        var evals = new List<bool>();
        var estops = 0;
        var total = s.Episodes + s.EvalEpisodes;
        for (var i = 0; i < total; i++)
        {
            ct.ThrowIfCancellationRequested();
            var eval = i >= s.Episodes;
            var seed = eval ? s.EvalSeed(i - s.Episodes) : s.EpisodeSeed(i);
            var begun = await client.BeginAsync(eval ? 1_000_000 + i - s.Episodes : i, seed, eval, ct);
            if (!eval) supervisor.Reset(seed);
            var (obs, info) = env.Reset(seed);
            var mode = begun.Mode;
            float? reward = null;
            bool success = false, sentEnd = false;
            BridgeReply? ended = null;
            for (var t = 0; t < spec.MaxEpisodeSteps; t++)
            {
                // The robot-side human decides on o_t with the mode it was told last (the loop asks its supervisor only while not stopped).
                var human = eval || mode == ControlMode.Stopped
                    ? HumanDecision.None
                    : supervisor.Decide(new SupervisorContext(t, obs, info, ControllerOf(mode), mode == ControlMode.Human, mode == ControlMode.AwaitingHuman));
                var d = await client.StepAsync(t, obs, human, reward, success ? true : null, ct);
                if (client.EStopReceived)
                {
                    estops++;
                    client.ClearEStop();
                }
                if (d.Stop == true)
                {
                    ended = await client.EndAsync(null, null, false, false, success, "stopped", ct);
                    sentEnd = true;
                    break;
                }
                if (s.StepDelayMs > 0) await Task.Delay(s.StepDelayMs, ct);
                var r = env.Step(d.Action!);
                success |= r.Info.Success;
                mode = d.Mode;
                if (r.Terminated || r.Truncated || mode == ControlMode.Stopped)
                {
                    ended = await client.EndAsync(r.Observation, (float)r.Reward, r.Terminated, r.Truncated, success, null, ct);
                    sentEnd = true;
                    break;
                }
                obs = r.Observation;
                info = r.Info;
                reward = (float)r.Reward;
            }
            if (!sentEnd) ended = await client.EndAsync(null, reward, false, false, success, "time_limit", ct);
            if (eval) evals.Add(ended!.Result!.Success);
            else episodes.Add(ended!.Result!);
            onEpisode?.Invoke(i);
        }
        return new SimRunResult(episodes, evals, estops);
    }

    /// <summary>The same run in process: <see cref="EpisodeRunner"/> over a loop built from the same components.</summary>
    public static SimRunResult RunInProcess(IEnvironment env, IHumanSupervisor supervisor, SessionComponents components, SimRunSettings s, Action<int>? onEpisode = null)
    {
        var episodes = new List<EpisodeSummaryWire>();
        var evals = new List<bool>();
        using (var loop = new ArbitrationLoop(components.Loop, s.Task, components.Policy, supervisor, components.Agent))
        {
            var runner = new EpisodeRunner(env, loop);
            for (var i = 0; i < s.Episodes; i++)
            {
                components.BeginEpisode?.Invoke();
                episodes.Add(EpisodeSummaryWire.From(runner.Run(i, s.EpisodeSeed(i))));
                onEpisode?.Invoke(i);
            }
        }
        if (s.EvalEpisodes > 0)
        {
            var evalOptions = DefaultSessionFactory.CopyWithSeed(components.Loop, components.Loop.Seed);
            evalOptions.DeterministicPolicy = true;
            using var loop = new ArbitrationLoop(evalOptions, s.Task, components.Policy, new NoSupervisor());
            var runner = new EpisodeRunner(env, loop);
            for (var i = 0; i < s.EvalEpisodes; i++)
            {
                components.BeginEpisode?.Invoke();
                evals.Add(runner.Run(1_000_000 + i, s.EvalSeed(i)).Record.Success);
                onEpisode?.Invoke(s.Episodes + i);
            }
        }
        return new SimRunResult(episodes, evals, 0);
    }

    private static Controller ControllerOf(ControlMode mode) => mode switch
    {
        ControlMode.Human => Controller.Human,
        ControlMode.Recovery or ControlMode.AwaitingHuman => Controller.Agent,
        _ => Controller.Policy,
    };

    private sealed class NoSupervisor : IHumanSupervisor
    {
        public void Reset(int episodeSeed) { }
        public HumanDecision Decide(in SupervisorContext context) => HumanDecision.None;
    }
}

/// <summary>
/// A simple simulated takeover supervisor for the sim client (DESIGN.md §7, stuck rule): takes over when the oracle
/// progress has not improved for <paramref name="patience"/> robot steps, or when the agent asks for help; drives with
/// the scripted expert until progress rose by <paramref name="restoreMargin"/>, the task succeeded, or
/// <paramref name="maxSteps"/> steps passed; then hands back. Deterministic.
/// </summary>
public sealed class StuckTakeoverSupervisor(IExpert expert, int patience = 8, int maxSteps = 15, double restoreMargin = 0.1, double epsilon = 0.01) : IHumanSupervisor
{
    private double _best;
    private int _since;
    private int _controlSteps;
    private double _start;

    public void Reset(int episodeSeed)
    {
        expert.Reset();
        _best = double.NegativeInfinity;
        _since = 0;
        _controlSteps = 0;
    }

    public HumanDecision Decide(in SupervisorContext context)
    {
        var progress = context.Info.Progress;
        if (context.HumanInControl)
        {
            _controlSteps++;
            if (context.Info.Success || progress >= _start + restoreMargin || _controlSteps >= maxSteps)
            {
                _best = progress;
                _since = 0;
                return new HumanDecision(HumanDecisionKind.HandBack);
            }
            return new HumanDecision(HumanDecisionKind.None, Act(context.Observation));
        }
        if (progress > _best + epsilon)
        {
            _best = progress;
            _since = 0;
        }
        else
        {
            _since++;
        }
        if (context.HelpRequested || _since >= patience)
        {
            _since = 0;
            _controlSteps = 0;
            _start = progress;
            return new HumanDecision(HumanDecisionKind.TakeOver, Act(context.Observation));
        }
        return HumanDecision.None;
    }

    private float[] Act(Observation o)
    {
        var a = new float[ObservationLayout.ActionSize];
        expert.Act(o, a);
        return a;
    }
}
