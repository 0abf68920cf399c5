using Rift.Learning;

namespace Rift.Agent.Loop;

/// <summary>One episode collected through the loop, with counts beyond those of <see cref="EpisodeRecord"/>.</summary>
public sealed record EpisodeResult(
    EpisodeRecord Record,
    long Episode,
    string EndReason,
    int SyntheticEStops,
    int RecoveriesStarted,
    int RecoveriesSucceeded,
    int Escalations,
    int HumanEStops,
    int HumanTakeovers)
{
    public int HumanInterventions => HumanEStops + HumanTakeovers;
}

/// <summary>
/// Drives an <see cref="IEnvironment"/> through an <see cref="ArbitrationLoop"/> for one episode (simulation; the loop's
/// supervisor sees the privileged <see cref="StepInfo"/>). Transition labels for the learner:
/// <list type="bullet">
/// <item>synthetic e-stop: e = 1, Kind = SyntheticEStop, Truncated on the step's policy transition (RIFT: truncation,
/// target −e + γV(s')); the episode goes on under the recovery policy;</item>
/// <item>human e-stop: e = 1, Kind = HumanEStop, Truncated on the previous transition; the episode ends;</item>
/// <item>human takeover: e = 1, Kind = HumanTakeover on the previous transition; then Controller = Human transitions;</item>
/// <item>an observation with NaN/Inf is never recorded (the transition leading to it is dropped and the last kept one
/// is marked Truncated).</item>
/// </list>
/// </summary>
public sealed class EpisodeRunner(IEnvironment environment, ArbitrationLoop loop)
{
    public IEnvironment Environment { get; } = environment ?? throw new ArgumentNullException(nameof(environment));
    public ArbitrationLoop Loop { get; } = loop ?? throw new ArgumentNullException(nameof(loop));

    /// <summary>Runs episode <paramref name="episode"/> from <paramref name="seed"/>; cancellation ends it as "cancelled".</summary>
    public EpisodeResult Run(long episode, int seed, CancellationToken cancellationToken = default)
    {
        var spec = Environment.Spec;
        var record = new EpisodeRecord { Task = spec.Task, Seed = seed };
        int synthetic = 0, started = 0, recovered = 0, escalations = 0, humanEStops = 0, takeovers = 0;
        var (obs, info) = Environment.Reset(seed);
        Loop.BeginEpisode(episode, seed);
        var end = "time_limit";
        var episodeOver = false;
        try
        {
            for (var t = 0; t < spec.MaxEpisodeSteps && !episodeOver; t++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    end = "cancelled";
                    MarkLastTruncated(record);
                    break;
                }
                var d = Loop.Step(obs, info);
                foreach (var e in d.Events)
                {
                    switch (e.Type)
                    {
                        case Events.LoopEventType.SyntheticEStop: synthetic++; break;
                        case Events.LoopEventType.RecoveryStarted: started++; break;
                        case Events.LoopEventType.RecoveryEnded when e.Outcome == Events.InterventionOutcome.Recovered: recovered++; break;
                        case Events.LoopEventType.HelpRequested: escalations++; break;
                        case Events.LoopEventType.HumanEStop: humanEStops++; break;
                        case Events.LoopEventType.HumanTakeover: takeovers++; break;
                    }
                }
                if (d.LabelsPreviousTransition && record.Transitions.Count > 0)
                {
                    var last = record.Transitions[^1];
                    if (!last.Intervention || d.Kind == InterventionKind.HumanEStop)
                        record.Transitions[^1] = Relabel(last, true, last.Intervention ? last.Kind : d.Kind, last.Truncated || d.Kind == InterventionKind.HumanEStop);
                }
                if (d.Stop)
                {
                    end = d.Kind == InterventionKind.HumanEStop ? "human_estop" : "stopped";
                    MarkLastTruncated(record);
                    break;
                }

                var input = obs.PolicyInput();
                var r = Environment.Step(d.Action);
                if (!ObservationCheck.IsFinite(r.Observation, out _))
                {
                    // Never hand a NaN/Inf observation to the learner: drop this transition; the loop rejects it next step.
                    MarkLastTruncated(record);
                    obs = r.Observation;
                    info = r.Info;
                    continue;
                }
                var stopsAfter = d.NextMode == ControlMode.Stopped;
                record.Transitions.Add(new Transition
                {
                    Input = input,
                    Action = d.Action,
                    Reward = (float)r.Reward,
                    NextInput = r.Observation.PolicyInput(),
                    Terminated = r.Terminated,
                    Truncated = !r.Terminated && (r.Truncated || d.Truncate || stopsAfter),
                    Controller = d.Controller,
                    Intervention = d.Intervention,
                    Kind = d.Intervention ? d.Kind : InterventionKind.None,
                });
                if (d.Controller == Controller.Human) record.HumanSteps++;
                else if (d.Controller == Controller.Agent) record.AgentSteps++;
                obs = r.Observation;
                info = r.Info;
                if (r.Info.Success) record.Success = true;
                if (r.Terminated || r.Truncated)
                {
                    end = r.Terminated ? (r.Info.Success ? "success" : "terminated") : "time_limit";
                    episodeOver = true;
                }
                else if (stopsAfter)
                {
                    end = "stopped";
                    episodeOver = true;
                }
            }
            if (!episodeOver && end == "time_limit") MarkLastTruncated(record);
        }
        finally
        {
            Loop.EndEpisode(record.Success, end);
        }
        record.InterventionCount = synthetic + humanEStops + takeovers;
        return new EpisodeResult(record, episode, end, synthetic, started, recovered, escalations, humanEStops, takeovers);
    }

    private static void MarkLastTruncated(EpisodeRecord record)
    {
        if (record.Transitions.Count == 0) return;
        var last = record.Transitions[^1];
        if (!last.Terminated && !last.Truncated) record.Transitions[^1] = Relabel(last, last.Intervention, last.Kind, true);
    }

    private static Transition Relabel(Transition t, bool e, InterventionKind kind, bool truncated) => new()
    {
        Input = t.Input,
        Action = t.Action,
        Reward = t.Reward,
        NextInput = t.NextInput,
        Terminated = t.Terminated,
        Truncated = truncated && !t.Terminated,
        Controller = t.Controller,
        Intervention = e,
        Kind = kind,
    };
}
