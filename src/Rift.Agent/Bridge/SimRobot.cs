using Rift.Agent.Loop;
using Rift.Learning;

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
public sealed record SimRunResult(IReadOnlyList<EpisodeSummaryWire> Episodes, IReadOnlyList<bool> EvalSuccesses, int EStopsReceived, IReadOnlyList<double>? StepRoundTripMs = null)
{
    /// <summary>Round-trip percentiles of obs → act over the bridge, in ms (empty for in-process runs).</summary>
    public Dictionary<string, double> Latency()
    {
        var m = new Dictionary<string, double>();
        if (StepRoundTripMs is not { Count: > 0 } rtt) return m;
        var sorted = rtt.Order().ToArray();
        m["bridge/step_rtt_p50_ms"] = sorted[(int)(0.50 * (sorted.Length - 1))];
        m["bridge/step_rtt_p99_ms"] = sorted[(int)(0.99 * (sorted.Length - 1))];
        m["bridge/steps_timed"] = sorted.Length;
        return m;
    }

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
        var rtt = new List<double>();
        var total = s.Episodes + s.EvalEpisodes;
        for (var i = 0; i < total; i++)
        {
            ct.ThrowIfCancellationRequested();
            var eval = i >= s.Episodes;
            var seed = eval ? s.EvalSeed(i - s.Episodes) : s.EpisodeSeed(i);
            var begun = await client.BeginAsync(eval ? 1_000_000 + i - s.Episodes : i, seed, eval, ct);
            // Same order as EpisodeRunner: the environment first, then the supervisor (it may read the new state).
            var (obs, info) = env.Reset(seed);
            if (!eval) supervisor.Reset(seed);
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
                var sent = System.Diagnostics.Stopwatch.GetTimestamp();
                var d = await client.StepAsync(t, obs, human, reward, success ? true : null, ct);
                rtt.Add(System.Diagnostics.Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
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
        return new SimRunResult(episodes, evals, estops, rtt);
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
