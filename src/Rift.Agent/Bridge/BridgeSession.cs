using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Agent.Operator;
using Rift.Learning;

namespace Rift.Agent.Bridge;

/// <summary>
/// One robot connection: runs an <see cref="ArbitrationLoop"/> over the robot's observations and records the episode
/// the way <see cref="EpisodeRunner"/> does in process (same transitions, labels and counts), so bridge runs and
/// in-process runs are comparable and online learning can consume either. Messages are handled one at a time on the
/// connection's receive task; the loop is never touched from another thread.
/// </summary>
internal sealed class BridgeSession : IDisposable
{
    private readonly string _id;
    private readonly WebSocket _ws;
    private readonly BridgeServer _server;
    private readonly OperatorControl _operator;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _send = new(1, 1);

    private SessionRequest? _request;
    private SessionComponents? _components;
    private ArbitrationLoop? _loop;
    private ArbitrationLoop? _evalLoop;
    private BridgeSupervisor? _supervisor;
    private BridgeSupervisor? _evalSupervisor;
    private EventLogWriter? _eventLog;

    // Episode state (mirrors EpisodeRunner).
    private ArbitrationLoop? _active;
    private EpisodeRecord? _record;
    private long _episode;
    private float[]? _pendingInput;
    private ControlDecision? _pending;
    private bool _stopped;
    private string? _stopReason;
    private int _synthetic, _started, _recovered, _escalations, _humanEStops, _takeovers;

    public BridgeSession(string id, WebSocket ws, BridgeServer server, ILogger log)
    {
        _id = id;
        _ws = ws;
        _server = server;
        _operator = server.Operator;
        _log = log;
        _operator.EStopPressed += OnEStopPressed;
    }

    public string Id => _id;

    public async Task RunAsync(CancellationToken ct)
    {
        var max = _server.Options.MaxMessageBytes;
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (_ws.State == WebSocketState.Open && !ct.IsCancellationRequested)
            {
                message.SetLength(0);
                var tooLarge = false;
                WebSocketReceiveResult r;
                do
                {
                    r = await _ws.ReceiveAsync(buffer, ct);
                    if (r.MessageType == WebSocketMessageType.Close) break;
                    if (message.Length + r.Count > max) tooLarge = true;
                    else message.Write(buffer, 0, r.Count);
                } while (!r.EndOfMessage);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
                    break;
                }
                if (tooLarge)
                {
                    await SendAsync(new ErrorMessage("too_large", $"message exceeds Bridge:MaxMessageBytes = {max} bytes"), ct);
                    continue;
                }
                if (r.MessageType == WebSocketMessageType.Binary)
                {
                    await SendAsync(new ErrorMessage("binary_unsupported", "send JSON text messages (frames as base64 rgb24)"), ct);
                    continue;
                }
                object reply;
                string? type = null;
                try
                {
                    var m = BridgeProtocol.Parse(message.GetBuffer().AsSpan(0, (int)message.Length));
                    type = m.Type;
                    reply = Handle(m);
                }
                catch (BridgeProtocolException e)
                {
                    reply = ErrorFor(e.Code, e.Message, type);
                }
                catch (Exception e)
                {
                    // Never let one message take the server down; the robot gets the safe action.
                    _log.LogError(e, "session {Session}: handling a {Type} message failed", _id, type);
                    reply = ErrorFor("internal", $"{e.GetType().Name}: {e.Message}", type);
                }
                await SendAsync(reply, ct);
            }
        }
        catch (OperationCanceledException)
        {
            await CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "server stopping");
        }
        catch (WebSocketException e)
        {
            _log.LogInformation("session {Session}: connection lost: {Message}", _id, e.Message);
        }
        finally
        {
            if (_record is not null) FinishEpisode(success: false, "disconnected", final: null);
        }
    }

    private ErrorMessage ErrorFor(string code, string message, string? inReplyTo)
    {
        // During an episode every error carries the safe action (hold still): an observation that could not be decided
        // (or could not even be parsed) must not leave the robot without a command.
        var safe = (inReplyTo == "obs" || _record is not null) && _request is not null ? new float[_request.ActionSize] : null;
        return new ErrorMessage(code, message, inReplyTo, safe, safe is null ? null : true);
    }

    private object Handle(BridgeMessage m) => m.Type switch
    {
        "hello" => Hello(m),
        "begin" => Begin(m),
        "obs" => Obs(m),
        "end" => End(m),
        "ping" => new PongMessage(),
        null => throw new BridgeProtocolException("bad_message", "message has no type"),
        _ => throw new BridgeProtocolException("unknown_type", $"unknown message type '{m.Type}'; expected hello, begin, obs, end or ping"),
    };

    // ---- hello -------------------------------------------------------------------------------------------------------

    private object Hello(BridgeMessage m)
    {
        if (_request is not null) throw new BridgeProtocolException("out_of_order", "hello was already received");
        if (m.Protocol is { } p && p != BridgeProtocol.Version)
            throw new BridgeProtocolException("bad_protocol", $"protocol {p} is not supported; this server speaks {BridgeProtocol.Version}");
        if (string.IsNullOrWhiteSpace(m.Task)) throw new BridgeProtocolException("bad_hello", "task is missing");
        if (m.ActionSize is not (>= 1 and <= 64)) throw new BridgeProtocolException("bad_hello", $"action_size must be in [1, 64], got {m.ActionSize?.ToString() ?? "nothing"}");
        var request = new SessionRequest(m.Task, string.IsNullOrWhiteSpace(m.Robot) ? "robot" : m.Robot, m.ActionSize.Value, PolicyInputSize(m), m.Seed);
        var components = _server.Factory.Create(request);
        if (components.Policy.ActionSize != request.ActionSize)
            throw new BridgeProtocolException("bad_hello", $"the policy has action size {components.Policy.ActionSize}, the robot announced {request.ActionSize}");
        _request = request;
        _components = components;
        _supervisor = new BridgeSupervisor(_operator);
        _evalSupervisor = new BridgeSupervisor(_operator, operatorOnly: true);
        var dir = _server.EventLogDirectory;
        _eventLog = new EventLogWriter(Path.Combine(dir, $"events-{Sanitize(request.Robot)}-{_id}.jsonl"), _server.EventLogOptions);
        var sink = new SessionSink(this);
        _loop = new ArbitrationLoop(components.Loop, request.Task, components.Policy, _supervisor, components.Agent, sink);
        var evalOptions = DefaultSessionFactory.CopyWithSeed(components.Loop, components.Loop.Seed);
        evalOptions.DeterministicPolicy = true;
        _evalLoop = new ArbitrationLoop(evalOptions, request.Task, components.Policy, _evalSupervisor, null, sink);
        _operator.AddSession(_id, request.Robot, request.Task);
        _log.LogInformation("session {Session}: robot {Robot}, task {Task}, action size {A}, input size {I}, agent {Agent}, events {Log}",
            _id, request.Robot, request.Task, request.ActionSize, request.PolicyInputSize, components.Agent is not null, _eventLog.Path);
        return new WelcomeMessage(_id, request.Task, request.ActionSize, request.PolicyInputSize, ControlMode.Stopped, _operator.EStopEngaged, components.Agent is not null);
    }

    private static int PolicyInputSize(BridgeMessage m) =>
        m.PolicyInputSize is >= 1 and <= 1 << 20 ? m.PolicyInputSize.Value
            : throw new BridgeProtocolException("bad_hello", $"policy_input_size must be in [1, 1048576], got {m.PolicyInputSize?.ToString() ?? "nothing"}");

    private static string Sanitize(string s) => new(s.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_').Take(40).ToArray());

    // ---- begin / obs / end -------------------------------------------------------------------------------------------

    private object Begin(BridgeMessage m)
    {
        if (_request is null) throw new BridgeProtocolException("out_of_order", "send hello before begin");
        if (_record is not null) throw new BridgeProtocolException("out_of_order", $"episode {_episode} is still running; send end first");
        var eval = m.Eval == true;
        _active = eval ? _evalLoop! : _loop!;
        _episode = m.Episode ?? _episode + 1;
        var seed = m.Seed ?? 0;
        _record = new EpisodeRecord { Task = _request.Task, Seed = seed };
        _pending = null;
        _pendingInput = null;
        _stopped = false;
        _stopReason = null;
        _synthetic = _started = _recovered = _escalations = _humanEStops = _takeovers = 0;
        _components!.BeginEpisode?.Invoke();
        _active.BeginEpisode(_episode, seed);
        _operator.OnMode(_id, _active.Mode);
        return new BegunMessage(_episode, _active.Mode, eval);
    }

    private object Obs(BridgeMessage m)
    {
        if (_record is null || _active is null) throw new BridgeProtocolException("out_of_order", "send begin before obs");
        var obs = BridgeProtocol.ToObservation(m, _request!.PolicyInputSize, _components!.Agent?.Encoder.Dimension);
        var human = BridgeProtocol.ToDecision(m.Human, _request.ActionSize);
        var step = _active.StepIndex;
        if (m.Step is { } s && s != step)
            throw new BridgeProtocolException("bad_step", $"step {s} is not the next step {step}");
        if (m.Success == true) _record.Success = true;
        if (_stopped)
            return new ActMessage { Step = step, Action = new float[_request.ActionSize], Mode = ControlMode.Stopped, ActionMode = ControlMode.Stopped, Stop = true };

        // The transition that led here: (o_{t-1}, a_{t-1}, r, o_t), unless o_t is not finite (the loop rejects it below).
        if (_pending is not null)
        {
            if (ObservationCheck.IsFinite(obs, out _)) AddTransition(obs.PolicyInput(), m.Reward ?? 0f, terminated: false, truncated: false);
            else MarkLastTruncated();
            _pending = null;
            if (_stopped) // the loop stopped after the previous action (EpisodeRunner ends the episode here)
                return new ActMessage { Step = step, Action = new float[_request.ActionSize], Mode = ControlMode.Stopped, ActionMode = ControlMode.Stopped, Stop = true };
        }

        if (obs.Frame is null && _server.Camera is { } camera)
        {
            if (!CameraFrame(camera, out var frame, out var problem)) return CameraStop(step, problem);
            obs = new Observation { Proprio = obs.Proprio, ObjectState = obs.ObjectState, Embedding = obs.Embedding, Frame = frame };
        }

        var supervisor = ReferenceEquals(_active, _loop) ? _supervisor! : _evalSupervisor!;
        supervisor.RobotDecision = human;
        var d = _active.Step(obs);
        supervisor.RobotDecision = HumanDecision.None;
        Count(d);
        if (d.LabelsPreviousTransition && _record.Transitions.Count > 0)
        {
            var last = _record.Transitions[^1];
            if (!last.Intervention || d.Kind == InterventionKind.HumanEStop)
                _record.Transitions[^1] = Relabel(last, true, last.Intervention ? last.Kind : d.Kind, last.Truncated || d.Kind == InterventionKind.HumanEStop);
        }
        if (d.Stop)
        {
            _stopped = true;
            _stopReason = d.Kind == InterventionKind.HumanEStop ? "human_estop" : "stopped";
            MarkLastTruncated();
        }
        else
        {
            _pending = d;
            _pendingInput = obs.PolicyInput();
        }
        _operator.OnMode(_id, _active.Mode);
        return new ActMessage
        {
            Step = step, Action = d.Action, Mode = _active.Mode, ActionMode = d.Mode, Controller = d.Controller, Stop = d.Stop,
            Intervention = d.Intervention, Kind = d.Kind, Truncate = d.Truncate, Value = d.Value, Events = d.Events,
        };
    }

    private bool CameraFrame(Frames.FfmpegFrameSource camera, out Frame frame, out string problem)
    {
        if (camera.TryGetLatest(out frame, out problem)) return true;
        if (camera.State != Frames.FrameSourceState.Starting) return false;
        // The first frame may still be on its way: wait for it within the start timeout.
        camera.ReadNext(TimeSpan.FromMilliseconds(camera.Options.StartTimeoutMs));
        return camera.TryGetLatest(out frame, out problem);
    }

    /// <summary>A missing device or broken stream: a safe stop of the episode, logged as a safety fault (never a crash).</summary>
    private ActMessage CameraStop(int step, string problem)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var events = new List<LoopEvent>
        {
            new() { Type = LoopEventType.AgentFault, Source = EventSource.Safety, Episode = _episode, Step = step, Mode = ControlMode.Stopped, Reason = problem, TimeMs = now },
            new() { Type = LoopEventType.Stopped, Source = EventSource.Safety, Episode = _episode, Step = step, Mode = ControlMode.Stopped, Reason = "camera_fault", Outcome = InterventionOutcome.Stopped, TimeMs = now },
        };
        var sink = new SessionSink(this);
        foreach (var e in events) sink.Append(e);
        _stopped = true;
        _stopReason = "camera_fault";
        MarkLastTruncated();
        _operator.OnMode(_id, ControlMode.Stopped);
        return new ActMessage { Step = step, Action = new float[_request!.ActionSize], Mode = ControlMode.Stopped, ActionMode = ControlMode.Stopped, Stop = true, Events = events };
    }

    private object End(BridgeMessage m)
    {
        if (_record is null) throw new BridgeProtocolException("out_of_order", "no episode is running");
        float[]? final = null;
        if (m.Proprio is not null)
        {
            var obs = BridgeProtocol.ToObservation(m, _request!.PolicyInputSize, _components!.Agent?.Encoder.Dimension);
            if (ObservationCheck.IsFinite(obs, out _)) final = obs.PolicyInput();
        }
        if (m.Success == true) _record.Success = true;
        var terminated = m.Terminated == true;
        var stopsAfter = _pending is not null && final is not null && _pending.NextMode == ControlMode.Stopped;
        if (_pending is not null && final is not null)
            AddTransition(final, m.Reward ?? 0f, terminated, m.Truncated == true);
        // The same end reasons as EpisodeRunner: a stop decision first, then the environment's end, then a stop after the action.
        var reason = _stopReason
                     ?? (terminated ? (_record.Success ? "success" : "terminated")
                         : m.Truncated == true ? "time_limit"
                         : stopsAfter ? "stopped"
                         : string.IsNullOrWhiteSpace(m.Reason) ? "ended" : m.Reason!);
        var episode = _episode;
        var result = FinishEpisode(_record.Success, reason, final);
        return new EndedMessage(episode, EpisodeSummaryWire.From(result));
    }

    private EpisodeResult FinishEpisode(bool success, string reason, float[]? final)
    {
        var record = _record!;
        _pending = null;
        MarkLastTruncated(); // no-op when the last transition already ended (terminated or truncated)
        _active!.EndEpisode(success, reason);
        _operator.OnMode(_id, _active.Mode);
        record.InterventionCount = _synthetic + _humanEStops + _takeovers;
        var result = new EpisodeResult(record, _episode, reason, _synthetic, _started, _recovered, _escalations, _humanEStops, _takeovers);
        _record = null;
        if (!ReferenceEquals(_active, _evalLoop)) _server.Completed(_id, result);
        _ = final;
        return result;
    }

    private void AddTransition(float[] nextInput, float reward, bool terminated, bool truncated)
    {
        var d = _pending!;
        var stopsAfter = d.NextMode == ControlMode.Stopped;
        _record!.Transitions.Add(new Transition
        {
            Input = _pendingInput!,
            Action = d.Action,
            Reward = reward,
            NextInput = nextInput,
            Terminated = terminated,
            Truncated = !terminated && (truncated || d.Truncate || stopsAfter),
            Controller = d.Controller,
            Intervention = d.Intervention,
            Kind = d.Intervention ? d.Kind : InterventionKind.None,
        });
        if (d.Controller == Controller.Human) _record.HumanSteps++;
        else if (d.Controller == Controller.Agent) _record.AgentSteps++;
        if (stopsAfter) _stopped = true;
    }

    private void Count(ControlDecision d)
    {
        foreach (var e in d.Events)
        {
            switch (e.Type)
            {
                case LoopEventType.SyntheticEStop: _synthetic++; break;
                case LoopEventType.RecoveryStarted: _started++; break;
                case LoopEventType.RecoveryEnded when e.Outcome == InterventionOutcome.Recovered: _recovered++; break;
                case LoopEventType.HelpRequested: _escalations++; break;
                case LoopEventType.HumanEStop: _humanEStops++; break;
                case LoopEventType.HumanTakeover: _takeovers++; break;
            }
        }
    }

    private void MarkLastTruncated()
    {
        if (_record is null || _record.Transitions.Count == 0) return;
        var last = _record.Transitions[^1];
        if (!last.Terminated && !last.Truncated) _record.Transitions[^1] = Relabel(last, last.Intervention, last.Kind, true);
    }

    private static Transition Relabel(Transition t, bool e, InterventionKind kind, bool truncated) => new()
    {
        Input = t.Input, Action = t.Action, Reward = t.Reward, NextInput = t.NextInput, Terminated = t.Terminated,
        Truncated = truncated && !t.Terminated, Controller = t.Controller, Intervention = e, Kind = kind,
    };

    // ---- Sending -----------------------------------------------------------------------------------------------------

    private void OnEStopPressed(string reason)
    {
        if (_request is null) return;
        // Without a latch the press stops the running episode once; with it, the latch stops every step until released.
        if (_record is not null) (ReferenceEquals(_active, _evalLoop) ? _evalSupervisor : _supervisor)?.RequestEStop();
        // Tell the robot now, between steps; the next act stops too. Starts sending on this thread when the socket is
        // free and never blocks the operator's thread otherwise.
        _ = PushEStopAsync(reason);
    }

    private async Task PushEStopAsync(string reason)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await SendAsync(new EStopMessage(reason), cts.Token);
        }
        catch (Exception)
        {
            // The robot's connection is gone or stalled; the latch still stops its next step.
        }
    }

    private async Task SendAsync<T>(T message, CancellationToken ct)
    {
        var bytes = BridgeProtocol.Serialize<object>(message!);
        await _send.WaitAsync(ct);
        try
        {
            if (_ws.State == WebSocketState.Open)
                await _ws.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct);
        }
        finally
        {
            _send.Release();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string text)
    {
        try
        {
            if (_ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await _ws.CloseOutputAsync(status, text, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _operator.EStopPressed -= OnEStopPressed;
        _loop?.Dispose();
        _evalLoop?.Dispose();
        _eventLog?.Dispose();
        if (_request is not null) _operator.RemoveSession(_id);
        _send.Dispose();
    }

    /// <summary>Sends the loop's events to the session's log and the operator console; never blocks.</summary>
    private sealed class SessionSink(BridgeSession s) : IEventSink
    {
        public void Append(LoopEvent e)
        {
            s._eventLog?.Append(e);
            s._operator.OnEvent(s._id, e);
        }
    }
}
