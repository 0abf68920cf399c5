using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Agent.Operator;
using Rift.Learning;

namespace Rift.Agent.Bridge;

/// <summary>
/// <c>rift serve</c>: Kestrel serving the robot bridge (WebSocket <c>/bridge</c>, protocol in docs/robot.md) and the
/// operator console (<c>/console</c>). Each robot connection gets its own <see cref="ArbitrationLoop"/>; all share one
/// <see cref="OperatorControl"/> (e-stop, takeover, live view). Loopback only unless a token is configured
/// (<see cref="BridgeOptions.Validate"/>); with a token every HTTP request and WebSocket must carry it.
/// </summary>
public sealed class BridgeServer : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly Channel<(string Session, EpisodeResult Result)> _completed = Channel.CreateUnbounded<(string, EpisodeResult)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly byte[] _token;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private Task? _completedPump;
    private int _sessions;
    private int _nextSession;

    /// <param name="camera">
    /// A camera next to the server (optional, started and disposed by the caller): observations that come without a
    /// frame get its latest frame; a faulted or stale camera stops the episode safely.
    /// </param>
    public BridgeServer(BridgeOptions options, IBridgeSessionFactory factory, EventLogOptions? eventLog = null, ILoggerFactory? loggers = null, Frames.FfmpegFrameSource? camera = null)
    {
        Camera = camera;
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();
        if (errors.Count > 0)
            throw new ArgumentException($"Bridge:{errors[0].MemberNames.FirstOrDefault()}: {errors[0].ErrorMessage}", nameof(options));
        Options = options;
        Factory = factory ?? throw new ArgumentNullException(nameof(factory));
        EventLogOptions = eventLog ?? new EventLogOptions();
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _log = _loggers.CreateLogger("Rift.Bridge");
        _token = Encoding.UTF8.GetBytes(options.Token);
        Operator = new OperatorControl(options.LatchEStop);
        if (camera is not null)
            camera.Faulted += (state, reason) =>
            {
                _log.LogError("camera {State}: {Reason}; episodes stop safely until it is back", state, reason);
                Operator.Alarm("camera", $"{state}: {reason}");
            };
        EventLogDirectory = string.IsNullOrEmpty(options.EventLogDirectory)
            ? Path.Combine(RiftPaths.Runs, $"serve__{DateTime.UtcNow:yyyyMMddTHHmmssZ}")
            : Path.GetFullPath(options.EventLogDirectory);
    }

    public BridgeOptions Options { get; }
    public IBridgeSessionFactory Factory { get; }
    public EventLogOptions EventLogOptions { get; }
    public OperatorControl Operator { get; }
    public Frames.FfmpegFrameSource? Camera { get; }
    public string EventLogDirectory { get; }

    /// <summary>Robot sessions connected now.</summary>
    public int SessionCount => Volatile.Read(ref _sessions);

    /// <summary>The addresses actually bound (port 0 resolved), available after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<string> Addresses { get; private set; } = [];

    /// <summary>
    /// Raised after each finished training episode of any session, on a dedicated task: the online learner hooks in
    /// here, and a slow handler never delays a robot's step or the e-stop path.
    /// </summary>
    public event Action<string, EpisodeResult>? EpisodeCompleted;

    public async Task StartAsync(CancellationToken ct = default)
    {
        if (_app is not null) throw new InvalidOperationException("BridgeServer already started.");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggers);
        builder.WebHost.UseUrls(BridgeOptions.SplitUrls(Options.Urls));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 64 * 1024;
        });
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.Use(Guard);
        app.Map(BridgeProtocol.Path, BridgeEndpoint);
        OperatorEndpoints.Map(app, Operator, Options);
        _completedPump = Task.Run(PumpCompleted, CancellationToken.None);
        await app.StartAsync(ct);
        _app = app;
        Addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
        _log.LogInformation("bridge listening on {Urls}; console at {Console}; event logs in {Dir}",
            string.Join(", ", Addresses), string.Join(", ", Addresses.Select(a => a + "/console")), EventLogDirectory);
    }

    /// <summary>The first bound address as http://host:port (port 0 resolved).</summary>
    public Uri BaseUri => Addresses.Count == 0 ? throw new InvalidOperationException("BridgeServer is not started.") : new Uri(Addresses[0].Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]"));

    public async Task StopAsync()
    {
        if (_app is null) return;
        // Close the robot sessions first (each ends its episode and closes its log), so Kestrel does not wait on them.
        await _stopping.CancelAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        _app = null;
        _completed.Writer.TryComplete();
        if (_completedPump is not null) await _completedPump;
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    internal void Completed(string session, EpisodeResult result) => _completed.Writer.TryWrite((session, result));

    private async Task PumpCompleted()
    {
        await foreach (var (session, result) in _completed.Reader.ReadAllAsync())
        {
            try
            {
                EpisodeCompleted?.Invoke(session, result);
            }
            catch (Exception e)
            {
                _log.LogError(e, "episode-completed handler failed for session {Session}", session);
            }
        }
    }

    // ---- Security: token, host and origin checks on every request -------------------------------------------------

    private async Task Guard(HttpContext ctx, RequestDelegate next)
    {
        if (_token.Length > 0)
        {
            if (!TokenMatches(ctx))
            {
                _log.LogWarning("refused {Method} {Path} from {Remote}: missing or wrong token", ctx.Request.Method, ctx.Request.Path, ctx.Connection.RemoteIpAddress);
                ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
                ctx.Response.Headers.WWWAuthenticate = "Bearer";
                await ctx.Response.WriteAsync("token required\n");
                return;
            }
        }
        else if (!IsLocalHost(ctx.Request.Host.Host))
        {
            // Loopback without a token: refuse foreign Host headers (DNS rebinding from a web page).
            ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
            await ctx.Response.WriteAsync("host not allowed\n");
            return;
        }
        var origin = ctx.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !SameOrigin(origin, ctx.Request.Host))
        {
            // Browsers send Origin on WebSockets and POSTs: only the console's own pages may drive the robot.
            ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
            await ctx.Response.WriteAsync("cross-origin request refused\n");
            return;
        }
        await next(ctx);
    }

    private bool TokenMatches(HttpContext ctx)
    {
        string? given = null;
        var auth = ctx.Request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) given = auth["Bearer ".Length..].Trim();
        else if (ctx.Request.Query.TryGetValue("token", out var q)) given = q.ToString();
        if (given is null) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _token);
    }

    private static bool IsLocalHost(string host)
    {
        host = host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    private static bool SameOrigin(string origin, HostString host) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var o) && string.Equals(o.Authority, host.Value, StringComparison.OrdinalIgnoreCase);

    // ---- /bridge -----------------------------------------------------------------------------------------------------

    private async Task BridgeEndpoint(HttpContext ctx)
    {
        if (!ctx.WebSockets.IsWebSocketRequest)
        {
            ctx.Response.StatusCode = StatusCodes.Status400BadRequest;
            await ctx.Response.WriteAsync("the bridge speaks WebSocket (see docs/robot.md)\n");
            return;
        }
        if (Interlocked.Increment(ref _sessions) > Options.MaxSessions)
        {
            Interlocked.Decrement(ref _sessions);
            ctx.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await ctx.Response.WriteAsync($"too many robot sessions (Bridge:MaxSessions = {Options.MaxSessions})\n");
            return;
        }
        try
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var id = $"s{Interlocked.Increment(ref _nextSession)}";
            using var session = new BridgeSession(id, ws, this, _log);
            _log.LogInformation("session {Session}: connected from {Remote}", id, ctx.Connection.RemoteIpAddress);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
            await session.RunAsync(linked.Token);
            _log.LogInformation("session {Session}: closed", id);
        }
        finally
        {
            Interlocked.Decrement(ref _sessions);
        }
    }
}
