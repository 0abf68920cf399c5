using System.CommandLine;
using Rift.Sim;

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

    /// <summary>The value of a <see cref="Task"/> option, one of the known tasks (else a one-line error naming them).</summary>
    public static string TaskValue(ParseResult parse, Option<string> option)
    {
        var task = parse.GetValue(option)!;
        if (!SimTasks.TaskNames.Contains(task))
            throw new RiftUserException($"unknown task '{task}'; known tasks: {string.Join(", ", SimTasks.TaskNames)}");
        return task;
    }

    /// <summary>The value of a count option (episodes, seeds …), which must be positive.</summary>
    public static int PositiveValue(ParseResult parse, Option<int> option)
    {
        var n = parse.GetValue(option);
        if (n <= 0) throw new RiftUserException($"{option.Name} must be positive, got {n}");
        return n;
    }
}
