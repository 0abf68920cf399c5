using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Learning;

namespace Rift.Agent.Bridge;

/// <summary>Any message from the server; which fields apply depends on <see cref="Type"/>.</summary>
public sealed class BridgeReply
{
    public string? Type { get; set; }
    public string? Session { get; set; }
    public int Protocol { get; set; }
    public long Episode { get; set; }
    public int Step { get; set; }
    public float[]? Action { get; set; }
    public ControlMode Mode { get; set; }
    public ControlMode ActionMode { get; set; }
    public Controller Controller { get; set; }
    public bool? Stop { get; set; }
    public bool Intervention { get; set; }
    public InterventionKind Kind { get; set; }
    public bool Truncate { get; set; }
    public float? Value { get; set; }
    public List<LoopEvent>? Events { get; set; }
    public EpisodeSummaryWire? Result { get; set; }
    public bool EStopEngaged { get; set; }
    public bool Agent { get; set; }
    public string? Code { get; set; }
    public string? Message { get; set; }
    public string? InReplyTo { get; set; }
    public string? Reason { get; set; }
}

/// <summary>A bridge error reply, thrown by <see cref="BridgeClient"/>.</summary>
public sealed class BridgeErrorException(string code, string message) : Exception($"bridge error {code}: {message}")
{
    public string Code { get; } = code;
}

/// <summary>
/// The robot side of the bridge protocol in C# (the reference client; docs/robot.md has a Python one). One request at
/// a time; an <c>estop</c> pushed by the server between replies sets <see cref="EStopReceived"/>.
/// </summary>
public sealed class BridgeClient : IAsyncDisposable
{
    private readonly ClientWebSocket _ws;
    private readonly byte[] _buffer = new byte[64 * 1024];

    private BridgeClient(ClientWebSocket ws) => _ws = ws;

    /// <summary>True once the server pushed an e-stop (the operator pressed it); cleared by <see cref="ClearEStop"/>.</summary>
    public bool EStopReceived { get; private set; }

    /// <summary>Messages received (replies and pushes).</summary>
    public long Received { get; private set; }

    public void ClearEStop() => EStopReceived = false;

    /// <summary>Send frames as PNG (lossless, smaller on the wire) instead of raw rgb24. Default false.</summary>
    public bool PngFrames { get; set; }

    /// <summary>Connects to <c>ws://host:port/bridge</c> of <paramref name="server"/> (http or ws URL), with the token if given.</summary>
    public static async Task<BridgeClient> ConnectAsync(Uri server, string? token = null, CancellationToken ct = default)
    {
        var ws = new ClientWebSocket();
        if (!string.IsNullOrEmpty(token)) ws.Options.SetRequestHeader("Authorization", "Bearer " + token);
        var b = new UriBuilder(server) { Scheme = server.Scheme is "https" or "wss" ? "wss" : "ws", Path = BridgeProtocol.Path };
        try
        {
            await ws.ConnectAsync(b.Uri, ct);
        }
        catch
        {
            ws.Dispose();
            throw;
        }
        return new BridgeClient(ws);
    }

    public Task<BridgeReply> HelloAsync(string task, int actionSize, int policyInputSize, string robot = "sim", int? seed = null, CancellationToken ct = default) =>
        RequestAsync(new Dictionary<string, object?>
        {
            ["type"] = "hello", ["protocol"] = BridgeProtocol.Version, ["task"] = task, ["robot"] = robot,
            ["action_size"] = actionSize, ["policy_input_size"] = policyInputSize, ["seed"] = seed,
        }, "welcome", ct);

    public Task<BridgeReply> BeginAsync(long episode, int seed, bool eval = false, CancellationToken ct = default) =>
        RequestAsync(new Dictionary<string, object?> { ["type"] = "begin", ["episode"] = episode, ["seed"] = seed, ["eval"] = eval }, "begun", ct);

    /// <summary>Sends o_t (with the reward of the previous action and the robot-side human decision) and returns the decision.</summary>
    public Task<BridgeReply> StepAsync(int step, Observation obs, HumanDecision human, float? reward = null, bool? success = null, CancellationToken ct = default)
    {
        var m = ObservationFields(obs);
        m["type"] = "obs";
        m["step"] = step;
        m["human"] = BridgeProtocol.FromDecision(human);
        m["reward"] = reward;
        m["success"] = success;
        return RequestAsync(m, "act", ct);
    }

    /// <summary>Ends the episode, with the final observation (completes the last transition) when there is one.</summary>
    public Task<BridgeReply> EndAsync(Observation? final, float? reward, bool terminated, bool truncated, bool success, string? reason = null, CancellationToken ct = default)
    {
        var m = final is null ? [] : ObservationFields(final);
        m["type"] = "end";
        m["reward"] = reward;
        m["terminated"] = terminated;
        m["truncated"] = truncated;
        m["success"] = success;
        m["reason"] = reason;
        return RequestAsync(m, "ended", ct);
    }

    public Task<BridgeReply> PingAsync(CancellationToken ct = default) => RequestAsync(new Dictionary<string, object?> { ["type"] = "ping" }, "pong", ct);

    private Dictionary<string, object?> ObservationFields(Observation obs)
    {
        var m = new Dictionary<string, object?> { ["proprio"] = obs.Proprio, ["object_state"] = obs.ObjectState };
        if (obs.Embedding is not null) m["embedding"] = obs.Embedding;
        if (obs.Frame is { } f)
            m["frame"] = PngFrames
                ? new WireFrame { Width = f.Width, Height = f.Height, Format = "png", Data = Convert.ToBase64String(Rift.Sim.Rendering.PngWriter.Encode(f)) }
                : new WireFrame { Width = f.Width, Height = f.Height, Format = "rgb24", Data = Convert.ToBase64String(f.Rgb) };
        return m;
    }

    /// <summary>Sends raw text (tests of malformed input) and returns the next reply that is not a push.</summary>
    public async Task<BridgeReply> SendRawAsync(string text, CancellationToken ct = default)
    {
        await _ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, ct);
        return await ReceiveReplyAsync(ct);
    }

    /// <summary>Sends raw bytes as a binary message and returns the next reply that is not a push.</summary>
    public async Task<BridgeReply> SendBinaryAsync(byte[] data, CancellationToken ct = default)
    {
        await _ws.SendAsync(data, WebSocketMessageType.Binary, true, ct);
        return await ReceiveReplyAsync(ct);
    }

    private async Task<BridgeReply> RequestAsync(Dictionary<string, object?> message, string expected, CancellationToken ct)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message.Where(kv => kv.Value is not null).ToDictionary(), BridgeProtocol.Json);
        await _ws.SendAsync(bytes, WebSocketMessageType.Text, true, ct);
        var reply = await ReceiveReplyAsync(ct);
        if (reply.Type == "error") throw new BridgeErrorException(reply.Code ?? "?", reply.Message ?? "");
        if (reply.Type != expected) throw new InvalidDataException($"bridge replied '{reply.Type}' to a {message["type"]} message, expected '{expected}'");
        return reply;
    }

    private async Task<BridgeReply> ReceiveReplyAsync(CancellationToken ct)
    {
        while (true)
        {
            using var ms = new MemoryStream();
            WebSocketReceiveResult r;
            do
            {
                r = await _ws.ReceiveAsync(_buffer, ct);
                if (r.MessageType == WebSocketMessageType.Close) throw new WebSocketException($"bridge closed the connection: {r.CloseStatus} {r.CloseStatusDescription}");
                ms.Write(_buffer, 0, r.Count);
            } while (!r.EndOfMessage);
            Received++;
            var reply = JsonSerializer.Deserialize<BridgeReply>(ms.GetBuffer().AsSpan(0, (int)ms.Length), BridgeProtocol.Json)
                        ?? throw new InvalidDataException("bridge sent an empty message");
            if (reply.Type == "estop")
            {
                EStopReceived = true;
                continue;
            }
            return reply;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        _ws.Dispose();
    }
}
