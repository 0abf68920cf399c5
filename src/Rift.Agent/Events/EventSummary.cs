using Rift.Learning;

namespace Rift.Agent.Events;

/// <summary>
/// Counts and rates over an event stream (DESIGN.md §8): human IR (step) = human-controlled steps ÷ steps;
/// human IR (episode) = episodes with ≥ 1 human intervention ÷ episodes; agent takeover rate = agent-controlled
/// steps ÷ steps. Step rates need per-step events (EventLog:LogSteps = true).
/// </summary>
public sealed class EventSummary
{
    public long Events { get; private set; }
    public long Episodes { get; private set; }
    public long EpisodesSucceeded { get; private set; }
    public long Steps { get; private set; }
    public long PolicySteps { get; private set; }
    public long AgentSteps { get; private set; }
    public long HumanSteps { get; private set; }
    public long SyntheticEStops { get; private set; }
    public long RecoveriesStarted { get; private set; }
    public long RecoveriesSucceeded { get; private set; }
    public long Escalations { get; private set; }
    public long NoGoal { get; private set; }
    public long HumanEStops { get; private set; }
    public long HumanTakeovers { get; private set; }
    public long HumanRecoveries { get; private set; }
    public long EpisodesWithHumanIntervention { get; private set; }
    public long ObservationsRejected { get; private set; }
    public long AgentFaults { get; private set; }

    public long HumanInterventions => HumanEStops + HumanTakeovers;
    public double HumanIrStep => Steps == 0 ? double.NaN : (double)HumanSteps / Steps;
    public double HumanIrEpisode => Episodes == 0 ? double.NaN : (double)EpisodesWithHumanIntervention / Episodes;
    public double AgentTakeoverRate => Steps == 0 ? double.NaN : (double)AgentSteps / Steps;
    public double TriggersPerEpisode => Episodes == 0 ? double.NaN : (double)SyntheticEStops / Episodes;
    public double RecoverySuccessRate => RecoveriesStarted == 0 ? double.NaN : (double)RecoveriesSucceeded / RecoveriesStarted;

    public static EventSummary From(IEnumerable<LoopEvent> events)
    {
        var s = new EventSummary();
        var episodes = new HashSet<long>();
        var humanEpisodes = new HashSet<long>();
        foreach (var e in events)
        {
            s.Events++;
            switch (e.Type)
            {
                case LoopEventType.Step:
                    s.Steps++;
                    switch (e.Controller)
                    {
                        case Controller.Policy: s.PolicySteps++; break;
                        case Controller.Agent: s.AgentSteps++; break;
                        case Controller.Human: s.HumanSteps++; break;
                    }
                    episodes.Add(e.Episode);
                    break;
                case LoopEventType.EpisodeStarted: episodes.Add(e.Episode); break;
                case LoopEventType.EpisodeEnded:
                    if (e.Success == true) s.EpisodesSucceeded++;
                    break;
                case LoopEventType.SyntheticEStop: s.SyntheticEStops++; break;
                case LoopEventType.RecoveryStarted: s.RecoveriesStarted++; break;
                case LoopEventType.RecoveryEnded:
                    if (e.Outcome == InterventionOutcome.Recovered) s.RecoveriesSucceeded++;
                    break;
                case LoopEventType.HelpRequested:
                    s.Escalations++;
                    if (e.Outcome == InterventionOutcome.NoGoal || e.Reason == "no_goal") s.NoGoal++;
                    break;
                case LoopEventType.HumanEStop:
                    s.HumanEStops++;
                    humanEpisodes.Add(e.Episode);
                    break;
                case LoopEventType.HumanTakeover:
                    s.HumanTakeovers++;
                    humanEpisodes.Add(e.Episode);
                    break;
                case LoopEventType.HumanHandBack:
                    if (e.Outcome == InterventionOutcome.Recovered) s.HumanRecoveries++;
                    break;
                case LoopEventType.ObservationRejected: s.ObservationsRejected++; break;
                case LoopEventType.AgentFault: s.AgentFaults++; break;
            }
        }
        s.Episodes = episodes.Count;
        s.EpisodesWithHumanIntervention = humanEpisodes.Count;
        return s;
    }

    /// <summary>Metrics under <c>events/</c>.</summary>
    public IReadOnlyDictionary<string, double> ToMetrics() => new Dictionary<string, double>
    {
        ["events/events"] = Events,
        ["events/episodes"] = Episodes,
        ["events/episodes_succeeded"] = EpisodesSucceeded,
        ["events/steps"] = Steps,
        ["events/policy_steps"] = PolicySteps,
        ["events/agent_steps"] = AgentSteps,
        ["events/human_steps"] = HumanSteps,
        ["events/synthetic_estops"] = SyntheticEStops,
        ["events/recoveries_started"] = RecoveriesStarted,
        ["events/recoveries_succeeded"] = RecoveriesSucceeded,
        ["events/recovery_success_rate"] = RecoverySuccessRate,
        ["events/escalations"] = Escalations,
        ["events/no_goal"] = NoGoal,
        ["events/human_estops"] = HumanEStops,
        ["events/human_takeovers"] = HumanTakeovers,
        ["events/human_interventions"] = HumanInterventions,
        ["events/human_recoveries"] = HumanRecoveries,
        ["events/human_ir_step"] = HumanIrStep,
        ["events/human_ir_episode"] = HumanIrEpisode,
        ["events/agent_takeover_rate"] = AgentTakeoverRate,
        ["events/triggers_per_episode"] = TriggersPerEpisode,
        ["events/observations_rejected"] = ObservationsRejected,
        ["events/agent_faults"] = AgentFaults,
    };
}
