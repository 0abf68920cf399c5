using System.CommandLine;
using Rift.Agent.Cli;
using Rift.Agent.Online;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift train online</c>: online RL through the arbitration loop with a simulated supervisor.</summary>
public sealed class OnlineCommands : ICommandProvider
{
    public void Register(CliTree tree)
    {
        var task = CommonOptions.Task();
        var seed = CommonOptions.Seed();
        var episodes = CommonOptions.Episodes(30);
        var json = CommonOptions.Json();
        var method = new Option<string>("--method")
        {
            Description = "rift (residual SAC + agentic intervention), hil (HiL-SERL SAC, human takeovers only), rift-noagent, fa (failure-classifier trigger), rlif, prior.",
            DefaultValueFactory = _ => "rift",
        };
        var resume = new Option<string?>("--resume") { Description = "Continue the run folder RUN_DIR from its last checkpoint (its config.json is used)." };
        var cmd = new Command("online", "Online training through the arbitration loop with a seeded simulated supervisor; writes a run folder under runs/.")
        {
            task, method, seed, episodes, json, resume,
        };
        cmd.SetAction((parse, ct) =>
        {
            using var host = RiftHost.Build(OnlineDefaults.With(OnlineDefaults.TrainOnlineKeys));
            var settings = OnlineDefaults.Settings(host);
            OnlineRunSpec spec;
            OnlineTrainer trainer;
            var resumeDir = parse.GetValue(resume);
            try
            {
                if (resumeDir is not null)
                {
                    var ep = parse.GetResult(episodes) is { Implicit: false } ? parse.GetValue(episodes) : (int?)null;
                    trainer = OnlineTrainer.Resume(resumeDir, null, ep);
                    spec = trainer.Spec;
                    AnsiConsole.MarkupLine($"[grey]resuming {Markup.Escape(resumeDir)} at episode {trainer.EpisodesDone}[/]");
                }
                else
                {
                    spec = new OnlineRunSpec(parse.GetValue(task)!, OnlineTrainer.ParseMethod(parse.GetValue(method)!), parse.GetValue(seed), parse.GetValue(episodes));
                    OnlineSetup? setup = null;
                    AnsiConsole.Status().Start("setup: demonstrations, π0, critic, recovery policy", _ =>
                        setup = OnlineSetup.Build(spec.Task, spec.Seed, settings.Online, settings.Sim, supervisor: settings.Supervisor));
                    trainer = OnlineTrainer.Create(spec, settings, setup);
                }
            }
            catch (ArgumentException e)
            {
                throw new RiftUserException(e.Message);
            }
            catch (IOException e)
            {
                throw new RiftUserException(e.Message);
            }

            OnlineResult? result = null;
            using (trainer)
            {
                AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var bar = ctx.AddTask($"{spec.Task} / {OnlineTrainer.MethodName(spec.Method)} / seed {spec.Seed}", maxValue: spec.Episodes);
                        var p = new SyncProgress<OnlineProgress>(x =>
                        {
                            bar.Value = x.EpisodesDone;
                            bar.Description = $"{spec.Task} / {OnlineTrainer.MethodName(spec.Method)} / seed {spec.Seed}: {x.Phase}";
                        });
                        result = trainer.Run(p, ct);
                    });
            }
            var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
            foreach (var (k, v) in result!.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                table.AddRow(k, double.IsFinite(v) ? v.ToString(Math.Abs(v - Math.Round(v)) < 1e-9 ? "0" : "0.000", System.Globalization.CultureInfo.InvariantCulture) : "–");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"run folder: [blue]{Markup.Escape(result.RunDirectory)}[/]{(result.Completed ? "" : " [yellow](stopped early; continue with --resume)[/]")}");
            if (parse.GetValue(json) is { } path) JsonMetrics.Write(path, result.Metrics);
            return Task.FromResult(result.Completed ? ExitCodes.Ok : 130);
        });
        tree.Group("train").Subcommands.Add(cmd);
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread (no synchronisation context hop).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
