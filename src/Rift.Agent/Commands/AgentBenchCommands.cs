using System.CommandLine;
using System.Text.Json.Nodes;
using Rift.Agent.Bench;
using Rift.Agent.Cli;
using Rift.Agent.Online;
using Rift.Learning;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift bench agent</c>: HiL baseline vs Rift's agentic intervention, RLIF vs RIFT — table, plots, report.</summary>
public sealed class AgentBenchCommands : ICommandProvider
{
    public void Register(CliTree tree)
    {
        var json = CommonOptions.Json();
        var profile = new Option<string>("--profile") { Description = "quick (push, 3 seeds, small budget) or full (all tasks, 5 seeds).", DefaultValueFactory = _ => "quick" };
        var cmd = new Command("agent", "Compare π0, HiL-SERL, HiL + failure-classifier trigger, HiL + Rift, and e-stop-only RLIF / RIFT / RIFT + synthetic e-stops; writes JSON, Markdown and HTML.") { profile, json };
        cmd.SetAction((parse, ct) => Task.FromResult(Run(parse.GetValue(profile)!, parse.GetValue(json), ct)));
        tree.Group("bench").Subcommands.Add(cmd);
    }

    /// <summary>Runs a profile with progress bars, prints the table, writes the report folder; returns the exit code.</summary>
    public static int Run(string profileName, string? jsonPath, CancellationToken ct)
    {
        using var host = RiftHost.Build(OnlineDefaults.With(null));
        var settings = OnlineDefaults.Settings(host);
        var options = host.Options<AgentBenchOptions>();
        AgentBenchProfile profile;
        IReadOnlyList<BenchCondition> conditions;
        try
        {
            profile = AgentBenchProfile.Get(profileName, options);
            var keys = options.Conditions.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            conditions = keys.Length == 0 ? AgentBenchProfile.AllConditions
                : keys.Select(k => AgentBenchProfile.AllConditions.FirstOrDefault(c => c.Key == k)
                    ?? throw new ArgumentException($"AgentBench:Conditions: unknown condition '{k}'; known: {string.Join(", ", AgentBenchProfile.AllConditions.Select(c => c.Key))}.")).ToList();
        }
        catch (ArgumentException e)
        {
            throw new RiftUserException(e.Message);
        }
        var dir = RiftPaths.NewRunDirectory(settings.Online.RunsDirectory, $"bench-agent__{profile.Name}");
        var command = "./rift bench agent --profile " + profile.Name + string.Concat(RiftHost.CommandLineOverrides.Select(kv => $" --{kv.Key}={kv.Value}"));
        AnsiConsole.MarkupLine($"[bold]Rift agent benchmark[/] — {profile.Name}: {string.Join(", ", profile.Tasks)} × seeds {string.Join(",", profile.Seeds)} × {conditions.Count} conditions, {profile.Episodes} episodes each");

        AgentBenchResult? result = null;
        AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var perRun = profile.Tasks.Count * profile.Seeds.Count * profile.Episodes;
                var total = ctx.AddTask("[bold]all runs[/]", maxValue: perRun * conditions.Count);
                var bars = conditions.ToDictionary(c => c.Key, c => ctx.AddTask(Markup.Escape(c.Label), maxValue: perRun));
                var done = new Dictionary<string, int>();
                var gate = new object();
                var p = new SyncProgress<BenchProgress>(x =>
                {
                    lock (gate)
                    {
                        done[x.Run] = x.EpisodesDone;
                        var key = x.Run.Split('/')[1];
                        bars[key].Value = done.Where(kv => kv.Key.Split('/')[1] == key).Sum(kv => kv.Value);
                        total.Value = done.Values.Sum();
                    }
                });
                result = AgentBench.Run(profile, conditions, settings, options, dir, p, null, ct);
            });

        var metrics = result!.Metrics();
        File.WriteAllText(Path.Combine(dir, "report.md"), ReportWriter.Markdown(result, metrics, command));
        File.WriteAllText(Path.Combine(dir, "report.html"), ReportWriter.Html(result, metrics, command));
        JsonMetrics.Write(Path.Combine(dir, "report.json"), metrics, Extra(result));
        if (jsonPath is not null) JsonMetrics.Write(jsonPath, metrics, Extra(result));

        var table = new Table().Title($"SR / human IR (step), % — mean ± 95% CI over {profile.Seeds.Count} seeds").AddColumn("condition");
        foreach (var t in profile.Tasks) table.AddColumn(new TableColumn($"{t} SR").RightAligned()).AddColumn(new TableColumn($"{t} IR").RightAligned());
        table.AddColumn(new TableColumn("avg SR").RightAligned()).AddColumn(new TableColumn("avg IR").RightAligned());
        foreach (var c in conditions)
        {
            var row = new List<string> { Markup.Escape(c.Label) };
            foreach (var t in profile.Tasks) row.AddRange([ReportWriter.Percent(result.Sr(c.Key, t)), ReportWriter.Percent(result.HumanIr(c.Key, t))]);
            row.AddRange([ReportWriter.Percent(result.Sr(c.Key)), ReportWriter.Percent(result.HumanIr(c.Key))]);
            table.AddRow(row.ToArray());
        }
        AnsiConsole.Write(table);
        if (metrics.TryGetValue("agent/ir_reduction", out var red) && double.IsFinite(red))
            AnsiConsole.MarkupLine($"human IR reduction vs HiL: [bold]{100 * red:0.0}%[/]   SR rift {metrics.GetValueOrDefault("agent/rift_sr"):0.00} vs hil {metrics.GetValueOrDefault("agent/hil_sr"):0.00}");
        AnsiConsole.MarkupLine($"wall time {result.WallSeconds:0} s; report: [blue]{Markup.Escape(Path.Combine(dir, "report.html"))}[/]");
        return ExitCodes.Ok;
    }

    private static Dictionary<string, JsonNode?> Extra(AgentBenchResult r) => new()
    {
        ["profile"] = r.Profile.Name,
        ["tasks"] = new JsonArray(r.Profile.Tasks.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
        ["seeds"] = new JsonArray(r.Profile.Seeds.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
        ["episodes"] = r.Profile.Episodes,
        ["runs"] = new JsonArray(r.Runs.Select(x => (JsonNode?)new JsonObject
        {
            ["task"] = x.Task,
            ["seed"] = x.Seed,
            ["condition"] = x.Condition,
            ["run_dir"] = x.RunDirectory,
            ["metrics"] = new JsonObject(x.Metrics.Select(kv => KeyValuePair.Create(kv.Key, double.IsFinite(kv.Value) ? (JsonNode?)JsonValue.Create(kv.Value) : null))),
        }).ToArray()),
    };
}
