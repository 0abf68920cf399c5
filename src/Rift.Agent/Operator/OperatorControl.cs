using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Learning;

namespace Rift.Agent.Operator;

/// <summary>
/// The human operator's controls and view, shared by every robot session of a server. E-stop and takeover are
/// plain flags that the sessions' supervisors read at the start of each step (before any agent computation), so
/// pressing e-stop never waits on the agent or the learner; the sessions are also told at once
/// (<see cref="EStopPressed"/>) so they can push a stop to the robot between steps.
/// </summary>
public sealed class OperatorControl
{
    private readonly bool _latch;
    private volatile bool _estop;
    private volatile bool _takeover;
    private readonly ConcurrentDictionary<int, Channel<string>> _subscribers = new();
    private readonly ConcurrentQueue<string> _history = new();
    private readonly ConcurrentDictionary<string, SessionView> _sessions = new();
    private int _nextSubscriber;
    private long _steps, _humanSteps, _agentSteps, _episodes, _synthetic, _recovered, _escalations, _humanEStops, _takeovers;

    public OperatorControl(bool latchEStop = true, int historySize = 200)
    {
        _latch = latchEStop;
        HistorySize = historySize;
    }

    public int HistorySize { get; }

    /// <summary>True while the operator's e-stop is engaged (latched until <see cref="Release"/>).</summary>
    public bool EStopEngaged => _estop;

    /// <summary>True while the operator holds the takeover toggle.</summary>
    public bool TakeoverRequested => _takeover;

    /// <summary>Raised (on the caller's thread) when the operator presses e-stop; handlers must not block.</summary>
    public event Action<string>? EStopPressed;

    /// <summary>Engages the e-stop: every session stops at its next step.</summary>
    public void EStop(string reason = "operator")
    {
        if (_latch) _estop = true;
        EStopPressed?.Invoke(reason);
        Publish(new JsonObject { ["kind"] = "operator", ["action"] = "estop", ["reason"] = reason, ["time_ms"] = Now() }, keep: true);
    }

    /// <summary>Releases a latched e-stop; new episodes may run again.</summary>
    public void Release()
    {
        _estop = false;
        Publish(new JsonObject { ["kind"] = "operator", ["action"] = "release", ["time_ms"] = Now() }, keep: true);
    }

    /// <summary>Takes over (true) or hands back (false) at each session's next step.</summary>
    public void SetTakeover(bool on)
    {
        _takeover = on;
        Publish(new JsonObject { ["kind"] = "operator", ["action"] = on ? "takeover" : "hand_back", ["time_ms"] = Now() }, keep: true);
    }

    /// <summary>Shows a server-side alarm (camera fault, …) in the console's event history.</summary>
    public void Alarm(string source, string message) =>
        Publish(new JsonObject { ["kind"] = "alarm", ["source"] = source, ["message"] = message, ["time_ms"] = Now() }, keep: true);

    // ---- The console's view ------------------------------------------------------------------------------------------

    /// <summary>Records a loop event of <paramref name="session"/> and forwards it to the console (never blocks).</summary>
    public void OnEvent(string session, LoopEvent e)
    {
        switch (e.Type)
        {
            case LoopEventType.Step:
                Interlocked.Increment(ref _steps);
                if (e.Controller == Controller.Human) Interlocked.Increment(ref _humanSteps);
                else if (e.Controller == Controller.Agent) Interlocked.Increment(ref _agentSteps);
                break;
            case LoopEventType.EpisodeEnded: Interlocked.Increment(ref _episodes); break;
            case LoopEventType.SyntheticEStop: Interlocked.Increment(ref _synthetic); break;
            case LoopEventType.RecoveryEnded when e.Outcome == InterventionOutcome.Recovered: Interlocked.Increment(ref _recovered); break;
            case LoopEventType.HelpRequested: Interlocked.Increment(ref _escalations); break;
            case LoopEventType.HumanEStop: Interlocked.Increment(ref _humanEStops); break;
            case LoopEventType.HumanTakeover: Interlocked.Increment(ref _takeovers); break;
        }
        if (_sessions.TryGetValue(session, out var view))
        {
            view.Episode = e.Episode;
            view.Step = e.Step;
            view.Mode = e.Type == LoopEventType.Step ? view.Mode : e.Mode;
            if (e.Value is { } v) view.Value = v;
        }
        var node = JsonSerializer.SerializeToNode(e, EventJson.Options);
        Publish(new JsonObject { ["kind"] = "event", ["session"] = session, ["event"] = node }, keep: e.Type != LoopEventType.Step);
    }

    /// <summary>Updates the mode a session is in after a step.</summary>
    public void OnMode(string session, ControlMode mode)
    {
        if (_sessions.TryGetValue(session, out var view)) view.Mode = mode;
    }

    public void AddSession(string id, string robot, string task) =>
        _sessions[id] = new SessionView { Id = id, Robot = robot, Task = task, Mode = ControlMode.Stopped };

    public void RemoveSession(string id)
    {
        _sessions.TryRemove(id, out _);
        Publish(new JsonObject { ["kind"] = "session_closed", ["session"] = id, ["time_ms"] = Now() }, keep: true);
    }

    /// <summary>Human IR (step) so far: human-controlled steps ÷ steps, over every session since the server started.</summary>
    public double HumanIrStep
    {
        get
        {
            var s = Interlocked.Read(ref _steps);
            return s == 0 ? 0 : (double)Interlocked.Read(ref _humanSteps) / s;
        }
    }

    public JsonObject Status()
    {
        var sessions = new JsonArray();
        foreach (var v in _sessions.Values.OrderBy(v => v.Id, StringComparer.Ordinal))
            sessions.Add(new JsonObject
            {
                ["id"] = v.Id, ["robot"] = v.Robot, ["task"] = v.Task, ["episode"] = v.Episode, ["step"] = v.Step,
                ["mode"] = JsonNamingPolicy.SnakeCaseLower.ConvertName(v.Mode.ToString()), ["value"] = float.IsFinite(v.Value) ? v.Value : null,
            });
        return new JsonObject
        {
            ["kind"] = "status",
            ["estop"] = _estop,
            ["takeover"] = _takeover,
            ["sessions"] = sessions,
            ["stats"] = new JsonObject
            {
                ["steps"] = Interlocked.Read(ref _steps),
                ["human_steps"] = Interlocked.Read(ref _humanSteps),
                ["agent_steps"] = Interlocked.Read(ref _agentSteps),
                ["human_ir_step"] = HumanIrStep,
                ["episodes"] = Interlocked.Read(ref _episodes),
                ["synthetic_estops"] = Interlocked.Read(ref _synthetic),
                ["recoveries_succeeded"] = Interlocked.Read(ref _recovered),
                ["escalations"] = Interlocked.Read(ref _escalations),
                ["human_estops"] = Interlocked.Read(ref _humanEStops),
                ["human_takeovers"] = Interlocked.Read(ref _takeovers),
            },
            ["time_ms"] = Now(),
        };
    }

    /// <summary>A live feed of console messages (JSON): recent history first, then new messages; slow readers lose the oldest.</summary>
    public (int Id, ChannelReader<string> Reader, string[] History) Subscribe(int capacity = 4096)
    {
        var ch = Channel.CreateBounded<string>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        var id = Interlocked.Increment(ref _nextSubscriber);
        _subscribers[id] = ch;
        return (id, ch.Reader, _history.ToArray());
    }

    public void Unsubscribe(int id)
    {
        if (_subscribers.TryRemove(id, out var ch)) ch.Writer.TryComplete();
    }

    private void Publish(JsonObject message, bool keep)
    {
        var text = message.ToJsonString();
        if (keep)
        {
            _history.Enqueue(text);
            while (_history.Count > HistorySize) _history.TryDequeue(out _);
        }
        foreach (var ch in _subscribers.Values) ch.Writer.TryWrite(text);
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private sealed class SessionView
    {
        public required string Id { get; init; }
        public required string Robot { get; init; }
        public required string Task { get; init; }
        public long Episode { get; set; }
        public int Step { get; set; }
        public ControlMode Mode { get; set; }
        public float Value { get; set; } = float.NaN;
    }
}
