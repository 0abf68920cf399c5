using System.CommandLine;
using Rift.Agent.Cli;

namespace Rift.Agent.Commands;

/// <summary><c>rift demo</c>: the main job, the quick profile of Rift's default benchmark.</summary>
public sealed class DemoCommand : ICommandProvider
{
    public void Register(CliTree tree)
    {
        var json = CommonOptions.Json();
        var demo = new Command("demo", "The main job: the quick profile of the default benchmark, with progress and a results table.") { json };
        demo.SetAction(async (parse, ct) =>
        {
            // Until the agent benchmark lands, the demo runs every registered benchmark's quick profile in turn.
            var bench = tree.Root.Subcommands.FirstOrDefault(c => c.Name == "bench");
            if (bench is null || bench.Subcommands.Count == 0)
                throw new RiftUserException("no benchmark is registered yet");
            foreach (var sub in bench.Subcommands)
            {
                var args = new List<string> { "bench", sub.Name };
                var path = parse.GetValue(json);
                if (path is not null) args.AddRange(["--json", Path.ChangeExtension(path, null) + "." + sub.Name + ".json"]);
                var code = await tree.Root.Parse(args).InvokeAsync(cancellationToken: ct);
                if (code != 0) return code;
            }
            return ExitCodes.Ok;
        });
        tree.Root.Subcommands.Add(demo);
    }
}
