using System.Text.Json;
using System.Text.Json.Serialization;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Learning;

namespace Rift.Agent.Bridge;

/// <summary>
/// The robot bridge protocol (docs/robot.md): JSON text messages over a WebSocket at <c>/bridge</c>, snake_case
/// keys, one <c>type</c> per message. The robot sends <c>hello</c>, then per episode <c>begin</c>, one <c>obs</c>
/// per control step (answered by <c>act</c>), and <c>end</c>. Any malformed message is answered with <c>error</c>;
/// an error in reply to <c>obs</c> carries the safe stop action.
/// </summary>
public static class BridgeProtocol
{
    public const int Version = 1;
    public const string Path = "/bridge";

    /// <summary>Rift's snake_case JSON (<see cref="RiftJson.SnakeCase"/>) with a nesting limit for untrusted input.</summary>
    public static readonly JsonSerializerOptions Json = new(RiftJson.SnakeCase) { MaxDepth = 16 };

    public static byte[] Serialize<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, Json);

    /// <summary>Parses one message; throws <see cref="BridgeProtocolException"/> with code bad_json on malformed JSON.</summary>
    public static BridgeMessage Parse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize<BridgeMessage>(utf8, Json) ?? throw new BridgeProtocolException("bad_json", "message is null");
        }
        catch (JsonException e)
        {
            throw new BridgeProtocolException("bad_json", $"not a valid message: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            throw new BridgeProtocolException("bad_json", $"not a valid message: {e.Message}");
        }
    }

    /// <summary>Converts an <c>obs</c> (or an <c>end</c> with a final observation) into an <see cref="Observation"/>.</summary>
    public static Observation ToObservation(BridgeMessage m, int policyInputSize, int? embeddingSize)
    {
        if (m.Proprio is null) throw new BridgeProtocolException("bad_observation", "proprio is missing");
        var objectState = m.ObjectState ?? [];
        if (m.Proprio.Length + objectState.Length != policyInputSize)
            throw new BridgeProtocolException("bad_observation",
                $"proprio ({m.Proprio.Length}) + object_state ({objectState.Length}) = {m.Proprio.Length + objectState.Length} values, the policy takes {policyInputSize}");
        if (m.Embedding is not null && embeddingSize is { } d && m.Embedding.Length != d)
            throw new BridgeProtocolException("bad_observation", $"embedding has {m.Embedding.Length} values, the encoder takes {d}");
        Frame? frame = null;
        if (m.Frame is { } f)
        {
            if (f.Format is not (null or "rgb24" or "png"))
                throw new BridgeProtocolException("bad_frame", $"frame format '{f.Format}' is not supported; send rgb24 or png (base64)");
            if (string.IsNullOrEmpty(f.Data)) throw new BridgeProtocolException("bad_frame", "frame data is missing");
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(f.Data);
            }
            catch (FormatException)
            {
                throw new BridgeProtocolException("bad_frame", "frame data is not base64");
            }
            if (f.Format == "png")
            {
                try
                {
                    frame = Frames.PngFrameDecoder.Decode(bytes);
                }
                catch (InvalidDataException e)
                {
                    throw new BridgeProtocolException("bad_frame", e.Message);
                }
                if ((f.Width != 0 && f.Width != frame.Width) || (f.Height != 0 && f.Height != frame.Height))
                    throw new BridgeProtocolException("bad_frame", $"frame says {f.Width}x{f.Height}, the PNG is {frame.Width}x{frame.Height}");
            }
            else
            {
                if (f.Width is < 1 or > 8192 || f.Height is < 1 or > 8192)
                    throw new BridgeProtocolException("bad_frame", $"frame size {f.Width}x{f.Height} is out of range [1, 8192]");
                if (bytes.Length != f.Width * f.Height * 3)
                    throw new BridgeProtocolException("bad_frame", $"frame data has {bytes.Length} bytes, expected {f.Width}x{f.Height}x3 = {f.Width * f.Height * 3}");
                frame = new Frame(f.Width, f.Height, bytes);
            }
        }
        return new Observation { Proprio = m.Proprio, ObjectState = objectState, Frame = frame, Embedding = m.Embedding };
    }

    /// <summary>The robot-side human decision of an <c>obs</c> (teleop device, or a simulated supervisor in sim).</summary>
    public static HumanDecision ToDecision(WireHuman? h, int actionSize)
    {
        if (h is null) return HumanDecision.None;
        var kind = h.Kind switch
        {
            null or "" or "none" => HumanDecisionKind.None,
            "estop" => HumanDecisionKind.EStop,
            "takeover" => HumanDecisionKind.TakeOver,
            "hand_back" => HumanDecisionKind.HandBack,
            _ => throw new BridgeProtocolException("bad_human", $"human.kind '{h.Kind}' is not one of none, estop, takeover, hand_back"),
        };
        if (h.Action is not null && h.Action.Length != actionSize)
            throw new BridgeProtocolException("bad_human", $"human.action has {h.Action.Length} values, expected {actionSize}");
        return new HumanDecision(kind, h.Action);
    }

    public static WireHuman? FromDecision(HumanDecision d) => d.Kind == HumanDecisionKind.None && d.Action is null
        ? null
        : new WireHuman
        {
            Kind = d.Kind switch
            {
                HumanDecisionKind.EStop => "estop",
                HumanDecisionKind.TakeOver => "takeover",
                HumanDecisionKind.HandBack => "hand_back",
                _ => "none",
            },
            Action = d.Action,
        };
}

/// <summary>A malformed or out-of-order bridge message; answered with an <c>error</c> message carrying <see cref="Code"/>.</summary>
public sealed class BridgeProtocolException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>Any message from the robot; which fields apply depends on <see cref="Type"/>.</summary>
public sealed class BridgeMessage
{
    /// <summary>hello, begin, obs, end or ping.</summary>
    public string? Type { get; set; }

    // hello
    public int? Protocol { get; set; }
    public string? Task { get; set; }
    public string? Robot { get; set; }
    public int? ActionSize { get; set; }
    /// <summary>Length of the policy input: proprio followed by object state.</summary>
    public int? PolicyInputSize { get; set; }

    // begin
    public long? Episode { get; set; }
    public int? Seed { get; set; }
    /// <summary>Evaluation episode: deterministic policy, no agent, no supervisor except the operator's e-stop.</summary>
    public bool? Eval { get; set; }

    // obs (and the optional final observation of end)
    public int? Step { get; set; }
    public float[]? Proprio { get; set; }
    public float[]? ObjectState { get; set; }
    public WireFrame? Frame { get; set; }
    public float[]? Embedding { get; set; }
    public WireHuman? Human { get; set; }
    /// <summary>Reward of the previous action (the transition that led to this observation).</summary>
    public float? Reward { get; set; }
    public bool? Terminated { get; set; }
    public bool? Truncated { get; set; }
    public bool? Success { get; set; }

    // end
    public string? Reason { get; set; }
}

public sealed class WireFrame
{
    public int Width { get; set; }
    public int Height { get; set; }
    /// <summary>rgb24 (default: rows top-down, 3 bytes per pixel) or png (8-bit grey/RGB/RGBA), base64 in <see cref="Data"/>.</summary>
    public string? Format { get; set; }
    public string? Data { get; set; }
}

public sealed class WireHuman
{
    /// <summary>none, estop, takeover or hand_back.</summary>
    public string? Kind { get; set; }
    /// <summary>The human's action while in control.</summary>
    public float[]? Action { get; set; }
}

// ---- Server → robot ------------------------------------------------------------------------------------------------

public sealed record WelcomeMessage(string Session, string Task, int ActionSize, int PolicyInputSize, ControlMode Mode, bool EStopEngaged, bool Agent)
{
    public string Type => "welcome";
    public int Protocol => BridgeProtocol.Version;
}

public sealed record BegunMessage(long Episode, ControlMode Mode, bool Eval)
{
    public string Type => "begun";
}

/// <summary>The decision for one step: apply <see cref="Action"/>; <see cref="Mode"/> is the mode in force now.</summary>
public sealed record ActMessage
{
    public string Type => "act";
    public int Step { get; init; }
    public required float[] Action { get; init; }
    /// <summary>The mode after this step (who controls the robot now).</summary>
    public ControlMode Mode { get; init; }
    /// <summary>The mode that produced <see cref="Action"/>.</summary>
    public ControlMode ActionMode { get; init; }
    public Controller Controller { get; init; }
    public bool Stop { get; init; }
    public bool Intervention { get; init; }
    public InterventionKind Kind { get; init; }
    public bool Truncate { get; init; }
    public float? Value { get; init; }
    public IReadOnlyList<LoopEvent>? Events { get; init; }
}

public sealed record EndedMessage(long Episode, EpisodeSummaryWire Result)
{
    public string Type => "ended";
}

/// <summary>Counts of one episode as recorded by the server (the same counts as <see cref="EpisodeResult"/>).</summary>
public sealed record EpisodeSummaryWire(
    int Steps, int HumanSteps, int AgentSteps, bool Success, string EndReason, int SyntheticEStops, int RecoveriesStarted,
    int RecoveriesSucceeded, int Escalations, int HumanEStops, int HumanTakeovers)
{
    public static EpisodeSummaryWire From(EpisodeResult r) => new(
        r.Record.Steps, r.Record.HumanSteps, r.Record.AgentSteps, r.Record.Success, r.EndReason, r.SyntheticEStops, r.RecoveriesStarted,
        r.RecoveriesSucceeded, r.Escalations, r.HumanEStops, r.HumanTakeovers);
}

/// <summary>Pushed by the server the moment the operator presses e-stop (the next <c>act</c> also stops).</summary>
public sealed record EStopMessage(string Reason)
{
    public string Type => "estop";
}

public sealed record ErrorMessage(string Code, string Message, string? InReplyTo = null, float[]? Action = null, bool? Stop = null)
{
    public string Type => "error";
}

public sealed record PongMessage
{
    public string Type => "pong";
}
