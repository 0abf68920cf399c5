using System.Text.Json;
using System.Text.Json.Serialization;
using Rift.Agent.Loop;
using Rift.Learning;

namespace Rift.Agent.Events;

/// <summary>What a <see cref="LoopEvent"/> records. Serialised in snake_case (<c>synthetic_e_stop</c>).</summary>
public enum LoopEventType : byte
{
    /// <summary>Per-step control flags: mode, controller, e, kind, value.</summary>
    Step = 0,
    EpisodeStarted = 1,
    EpisodeEnded = 2,
    /// <summary>The risk trigger fired: e = 1 on this step's (policy) transition, treated as truncation.</summary>
    SyntheticEStop = 3,
    /// <summary>A goal was retrieved from the recovery memory and the recovery policy took control.</summary>
    RecoveryStarted = 4,
    /// <summary>A recovery ended; <see cref="LoopEvent.Outcome"/> says how.</summary>
    RecoveryEnded = 5,
    /// <summary>The agent escalated to the human (budget spent, value kept falling, or no goal) and holds still.</summary>
    HelpRequested = 6,
    HumanEStop = 7,
    HumanTakeover = 8,
    HumanHandBack = 9,
    /// <summary>An observation with NaN/Inf was rejected; it never reaches the agent or the learner.</summary>
    ObservationRejected = 10,
    /// <summary>The agent's computation threw, produced NaN/Inf or missed the decision deadline.</summary>
    AgentFault = 11,
    /// <summary>Control stopped (safe stop action from now on until the next episode).</summary>
    Stopped = 12,
}

/// <summary>Who caused an event.</summary>
public enum EventSource : byte
{
    Loop = 0,
    Agent = 1,
    Human = 2,
    Safety = 3,
}

/// <summary>How an intervention ended.</summary>
public enum InterventionOutcome : byte
{
    None = 0,
    /// <summary>Progress restored (value recovered or goal reached) and control handed back to the policy.</summary>
    Recovered = 1,
    /// <summary>The agent's recovery failed and it asked the human for help.</summary>
    Escalated = 2,
    /// <summary>The episode was stopped (human e-stop, safety stop, or no goal with NoGoal = EndEpisode).</summary>
    Stopped = 3,
    /// <summary>Nobody answered a help request within the wait budget, or the episode hit its time limit.</summary>
    TimedOut = 4,
    /// <summary>The human took over while the agent was recovering.</summary>
    TakenOver = 5,
    /// <summary>The human handed back without the value having recovered.</summary>
    HandedBack = 6,
    /// <summary>The recovery memory held no goal for this state.</summary>
    NoGoal = 7,
}

/// <summary>
/// One line of the event log (JSONL, snake_case keys, nulls omitted). Intervention events carry the values
/// around them (<see cref="Window"/>, the last K critic values, oldest first), the goal and the outcome;
/// <see cref="LoopEventType.Step"/> events carry the per-step control flags.
/// </summary>
public sealed record LoopEvent
{
    /// <summary>Sequence number, increasing by one per event of a loop.</summary>
    public long Seq { get; init; }
    public LoopEventType Type { get; init; }
    public EventSource Source { get; init; }
    public long Episode { get; init; }
    public int Step { get; init; }
    /// <summary>For step events, the mode that produced the action; otherwise the mode the event leads to.</summary>
    public ControlMode Mode { get; init; }
    public Controller Controller { get; init; }
    /// <summary>e on this step's transition (true only for the synthetic e-stop step; human interventions label the previous transition).</summary>
    public bool E { get; init; }
    /// <summary>The intervention that started at this step, if any.</summary>
    public InterventionKind Kind { get; init; }
    /// <summary>Critic value q of this step (absent when not computed, e.g. under human control).</summary>
    public float? Value { get; init; }
    /// <summary>The last K critic values, oldest first.</summary>
    public float[]? Window { get; init; }
    public ulong? GoalId { get; init; }
    public float? GoalValue { get; init; }
    /// <summary>Cosine similarity of the current embedding to the goal.</summary>
    public float? GoalSimilarity { get; init; }
    /// <summary>Why: trigger reason (decline, plateau, abrupt_drop …), fault text, episode end reason.</summary>
    public string? Reason { get; init; }
    public InterventionOutcome? Outcome { get; init; }
    /// <summary>Steps the intervention lasted (recovery or human control).</summary>
    public int? Span { get; init; }
    /// <summary>Value when the intervention started (for RecoveryEnded / HumanHandBack).</summary>
    public float? StartValue { get; init; }
    /// <summary>What the recovery memory did with the offered segment: inserted, rejected, or error: ….</summary>
    public string? Memory { get; init; }
    /// <summary>Id of the stored memory item when inserted.</summary>
    public ulong? MemoryId { get; init; }
    /// <summary>Episode seed (EpisodeStarted).</summary>
    public int? Seed { get; init; }
    /// <summary>Task success (EpisodeEnded).</summary>
    public bool? Success { get; init; }
    /// <summary>Wall-clock time, Unix milliseconds.</summary>
    public long TimeMs { get; init; }

    public bool IsIntervention => Type is LoopEventType.SyntheticEStop or LoopEventType.HumanEStop or LoopEventType.HumanTakeover;

    public string ToJson() => JsonSerializer.Serialize(this, EventJson.Options);
}

/// <summary>The event log's JSON settings: snake_case names and enum values, nulls omitted.</summary>
public static class EventJson
{
    public static readonly JsonSerializerOptions Options = RiftJson.SnakeCase;
}

/// <summary>Receives the loop's events as they happen. Implementations must not block (the e-stop path appends).</summary>
public interface IEventSink
{
    void Append(LoopEvent e);
}

/// <summary>Keeps events in memory (tests, short runs).</summary>
public sealed class MemoryEventSink : IEventSink
{
    private readonly List<LoopEvent> _events = [];

    public IReadOnlyList<LoopEvent> Events
    {
        get
        {
            lock (_events) return _events.ToArray();
        }
    }

    public void Append(LoopEvent e)
    {
        lock (_events) _events.Add(e);
    }
}

/// <summary>Sends each event to several sinks.</summary>
public sealed class FanOutEventSink(params IEventSink[] sinks) : IEventSink
{
    public void Append(LoopEvent e)
    {
        foreach (var s in sinks) s.Append(e);
    }
}
