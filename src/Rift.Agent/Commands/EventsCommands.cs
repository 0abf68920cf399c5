using System.CommandLine;
using System.Globalization;
using Rift.Agent.Cli;
using Rift.Agent.Events;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift events summarize PATH [--json OUT]</c>: counts and rates of an event log.</summary>
public sealed class EventsCommands : ICommandProvider
{
    public void Register(CliTree tree)
    {
        var path = new Argument<string>("path") { Description = "Event log (JSONL) written by the arbitration loop." };
        var json = CommonOptions.Json();
        var summarize = new Command("summarize", "Counts and rates of an event log: synthetic e-stops, recoveries, escalations, human interventions, human IR (step/episode), agent takeover rate.")
        {
            path,
            json,
        };
        summarize.SetAction(parse =>
        {
            var file = parse.GetValue(path)!;
            if (!File.Exists(file)) throw new RiftUserException($"event log not found: {file}");
            var summary = EventSummary.From(EventLogReader.Read(file));
            var metrics = summary.ToMetrics();
            var output = parse.GetValue(json);
            if (output != "-")
            {
                var table = new Table().AddColumns("metric", "value");
                table.Title = new TableTitle(Markup.Escape(Path.GetFileName(file)));
                foreach (var (k, v) in metrics)
                    table.AddRow(Markup.Escape(k), Format(k, v));
                AnsiConsole.Write(table);
            }
            if (output is not null) JsonMetrics.Write(output, metrics);
            return ExitCodes.Ok;
        });
        tree.Group("events").Subcommands.Add(summarize);
    }

    private static string Format(string key, double v)
    {
        if (double.IsNaN(v)) return "–";
        var isRate = key.EndsWith("_rate", StringComparison.Ordinal) || key.Contains("_ir_", StringComparison.Ordinal) || key.EndsWith("per_episode", StringComparison.Ordinal);
        return isRate ? v.ToString("0.000", CultureInfo.InvariantCulture) : v.ToString("0", CultureInfo.InvariantCulture);
    }
}
