using System.CommandLine;

namespace Rift.Agent.Cli;

/// <summary>Options shared by many commands, one definition each.</summary>
public static class CommonOptions
{
    public static Option<string?> Json() => new("--json") { Description = "Write machine-readable results to PATH (\"-\" for stdout)." };

    public static Option<string> Task(string defaultTask = "push") => new("--task")
    {
        Description = "Task: push, peg-insert or pick-place.",
        DefaultValueFactory = _ => defaultTask,
    };

    public static Option<int> Seed(int defaultSeed = 0) => new("--seed")
    {
        Description = "Random seed.",
        DefaultValueFactory = _ => defaultSeed,
    };

    public static Option<int> Episodes(int defaultEpisodes) => new("--episodes")
    {
        Description = "Number of episodes.",
        DefaultValueFactory = _ => defaultEpisodes,
    };
}
