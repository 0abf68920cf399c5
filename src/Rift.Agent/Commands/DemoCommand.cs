using System.CommandLine;
using Rift.Agent.Cli;

namespace Rift.Agent.Commands;

/// <summary><c>rift demo</c>: the main job — the agent benchmark's quick profile (HiL baseline vs Rift), progress bars, table at the end.</summary>
public sealed class DemoCommand : ICommandProvider
{
    public void Register(CliTree tree)
    {
        var json = CommonOptions.Json();
        var demo = new Command("demo", "The main job: `bench agent --profile quick` — HiL-SERL vs Rift's agentic intervention on push, 3 seeds, with progress and the results table.") { json };
        demo.SetAction((parse, ct) => Task.FromResult(AgentBenchCommands.Run("quick", parse.GetValue(json), ct)));
        tree.Root.Subcommands.Add(demo);
    }
}
