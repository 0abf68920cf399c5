using System.CommandLine;

namespace Rift.Agent.Cli;

/// <summary>
/// Adds a component's commands to the CLI. Implementations are discovered by reflection, so each area
/// (nn, sim, memory, critic, learning, agent, robot) registers its own commands in its own file.
/// </summary>
public interface ICommandProvider
{
    void Register(CliTree tree);
}

/// <summary>The command tree under construction; top-level groups are shared (e.g. <c>bench</c>, <c>train</c>).</summary>
public sealed class CliTree(RootCommand root)
{
    private static readonly Dictionary<string, string> GroupDescriptions = new()
    {
        ["bench"] = "Benchmarks: timed, repeated runs reporting medians and ratios (--json PATH).",
        ["train"] = "Train models (encoder, critic, online RL through the arbitration loop).",
        ["eval"] = "Evaluate trained components on held-out episodes.",
        ["check"] = "Reproduce a paper's claims on Rift's tasks.",
        ["sim"] = "MuJoCo simulation: render frames, run scripted experts.",
        ["events"] = "Inspect intervention event logs.",
        ["robot"] = "Robot-side clients for the bridge.",
    };

    public RootCommand Root { get; } = root;

    /// <summary>Gets or creates the top-level command group <paramref name="name"/>.</summary>
    public Command Group(string name)
    {
        var existing = Root.Subcommands.FirstOrDefault(c => c.Name == name);
        if (existing is not null) return existing;
        var group = new Command(name, GroupDescriptions.GetValueOrDefault(name, name));
        Root.Subcommands.Add(group);
        return group;
    }

    public static IEnumerable<ICommandProvider> DiscoverProviders() =>
        typeof(CliTree).Assembly.GetTypes()
            .Where(t => typeof(ICommandProvider).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (ICommandProvider)Activator.CreateInstance(t)!);
}
