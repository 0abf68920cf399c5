using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Rift.Agent.Bridge;

/// <summary>The robot bridge and operator console served by <c>rift serve</c> (section <c>Bridge</c>).</summary>
public sealed class BridgeOptions : IValidatableObject
{
    /// <summary>
    /// URLs Kestrel listens on, separated by ';'. Default http://127.0.0.1:8765 (loopback only). Any address that
    /// is not loopback (0.0.0.0, a LAN address, a host name other than localhost) requires <see cref="Token"/>.
    /// </summary>
    [Required]
    public string Urls { get; set; } = "http://127.0.0.1:8765";

    /// <summary>
    /// Shared secret. When set, every connection (bridge WebSocket, console page, console events and commands) must
    /// carry it as <c>Authorization: Bearer TOKEN</c> or <c>?token=TOKEN</c>; otherwise it is refused with 401.
    /// Required for non-loopback URLs. Default empty (loopback only).
    /// </summary>
    public string Token { get; set; } = "";

    /// <summary>Largest accepted bridge message in bytes; larger ones are answered with an error and dropped. Default 8 MiB.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Concurrent robot sessions accepted; more are refused with 503. Default 8.</summary>
    [Range(1, 1024)]
    public int MaxSessions { get; set; } = 8;

    /// <summary>
    /// Folder for the per-session event logs (<c>events-ROBOT-N.jsonl</c>). Empty (default) uses
    /// <c>runs/serve__UTC/</c> under the Rift root.
    /// </summary>
    public string EventLogDirectory { get; set; } = "";

    /// <summary>
    /// Run folder of <c>rift train online</c> (runs/{task}__{method}__{seed}__{utc}) whose trained agent serves every
    /// session: the learned policy (deterministic), encoder, critic, trigger, recovery memory (read-only) and recovery
    /// policy at <c>checkpoints/latest</c>, with the run's loop options. Same as <c>rift serve --run</c>. Default empty:
    /// sessions run the stand-in <see cref="Policy"/> without agent.
    /// </summary>
    public string Run { get; set; } = "";

    /// <summary>
    /// Stand-in base policy for sessions when no <see cref="Run"/> is served: "expert" (the task's scripted expert, with <see cref="PolicyNoise"/> when sampling;
    /// a stand-in until a trained policy is loaded) or "zero" (hold still). Default expert.
    /// </summary>
    [Required]
    public string Policy { get; set; } = "expert";

    /// <summary>Standard deviation of Gaussian noise added to the expert policy's actions when sampling. Default 0.5.</summary>
    [Range(0.0, 10.0)]
    public double PolicyNoise { get; set; } = 0.5;

    /// <summary>
    /// E-stop semantics: true (default) keeps the operator's e-stop engaged (every step of every session is
    /// stopped, including new episodes) until the operator releases it; false stops only the running episodes.
    /// </summary>
    public bool LatchEStop { get; set; } = true;

    /// <summary>Interval of the console's status updates in milliseconds. Default 250.</summary>
    [Range(20, 60_000)]
    public int StatusIntervalMs { get; set; } = 250;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string[] urls;
        string? error = null;
        try
        {
            urls = SplitUrls(Urls);
        }
        catch (FormatException e)
        {
            urls = [];
            error = e.Message;
        }
        if (error is not null) yield return new ValidationResult(error, [nameof(Urls)]);
        var open = urls.Where(u => !IsLoopback(u)).ToArray();
        if (open.Length > 0 && string.IsNullOrEmpty(Token))
            yield return new ValidationResult(
                $"URL {open[0]} is not a loopback address; a non-local binding requires Bridge:Token (refusing to serve the robot and console to the network without a token)",
                [nameof(Token)]);
        if (Policy is not ("expert" or "zero"))
            yield return new ValidationResult($"unknown policy '{Policy}'; known: expert, zero.", [nameof(Policy)]);
    }

    /// <summary>The listen URLs; throws <see cref="FormatException"/> naming a malformed one.</summary>
    public static string[] SplitUrls(string urls)
    {
        var list = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length == 0) throw new FormatException("Bridge:Urls is empty.");
        foreach (var u in list)
        {
            var probe = u.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0");
            if (!Uri.TryCreate(probe, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
                throw new FormatException($"Bridge:Urls entry '{u}' is not an http(s) URL.");
        }
        return list;
    }

    /// <summary>True if <paramref name="url"/> binds only a loopback interface (localhost, 127.0.0.0/8, ::1).</summary>
    public static bool IsLoopback(string url)
    {
        var probe = url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0");
        if (!Uri.TryCreate(probe, UriKind.Absolute, out var uri)) return false;
        var host = uri.Host.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }
}
