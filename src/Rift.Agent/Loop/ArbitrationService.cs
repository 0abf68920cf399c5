using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rift.Agent.Events;

namespace Rift.Agent.Loop;

/// <summary>The hosted arbitration loop (section <c>ArbitrationService</c>).</summary>
public sealed class ArbitrationServiceOptions
{
    /// <summary>Episodes to run; 0 runs until the host stops (Ctrl+C). Default 0.</summary>
    [Range(0, int.MaxValue)]
    public int Episodes { get; set; }

    /// <summary>Seed of the first episode; episode i uses FirstSeed + i. Default 0.</summary>
    public int FirstSeed { get; set; }

    /// <summary>Index of the first episode (continuing a run after a restart). Default 0.</summary>
    [Range(0, long.MaxValue)]
    public long FirstEpisode { get; set; }

    /// <summary>Stop the host when the episodes are done. Default true.</summary>
    public bool StopHostWhenDone { get; set; } = true;
}

/// <summary>
/// Runs episodes through the <see cref="EpisodeRunner"/> as a <see cref="BackgroundService"/> on its own thread.
/// The host's stopping token (Ctrl+C) ends the running episode as "cancelled" at the next step boundary, and the
/// event log is flushed before <see cref="StopAsync"/> returns.
/// </summary>
public sealed class ArbitrationService(
    ArbitrationServiceOptions options,
    EpisodeRunner runner,
    EventLogWriter? eventLog = null,
    IHostApplicationLifetime? lifetime = null,
    ILogger<ArbitrationService>? logger = null) : BackgroundService
{
    private readonly ILogger _log = (ILogger?)logger ?? NullLogger.Instance;
    private int _completed;

    /// <summary>Raised on the service thread after each episode (online training hooks in here).</summary>
    public event Action<EpisodeResult>? EpisodeCompleted;

    public int EpisodesCompleted => Volatile.Read(ref _completed);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        for (long i = 0; options.Episodes == 0 || i < options.Episodes; i++)
        {
            if (ct.IsCancellationRequested) break;
            var episode = options.FirstEpisode + i;
            var result = runner.Run(episode, unchecked(options.FirstSeed + (int)i), ct);
            Interlocked.Increment(ref _completed);
            _log.LogInformation("episode {Episode}: {Steps} steps, {End}, synthetic e-stops {Synthetic}, human interventions {Human}",
                episode, result.Record.Steps, result.EndReason, result.SyntheticEStops, result.HumanInterventions);
            EpisodeCompleted?.Invoke(result);
        }
        if (!ct.IsCancellationRequested && options.StopHostWhenDone) lifetime?.StopApplication();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken);
        }
        finally
        {
            eventLog?.Flush();
        }
    }
}
