using Rift.Learning;
using Rift.Sim.Tasks;

namespace Rift.Sim;

/// <summary>Creates the simulated tasks by name.</summary>
public static class SimTasks
{
    /// <summary>Task names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> TaskNames { get; } = ["push", "peg-insert", "pick-place"];

    /// <summary>A new task definition (no simulator attached).</summary>
    public static SimTask CreateTask(string task) => task switch
    {
        "push" => new PushTask(),
        "peg-insert" => new PegInsertTask(),
        "pick-place" => new PickPlaceTask(),
        _ => throw new ArgumentException($"Unknown task '{task}'; known tasks: {string.Join(", ", TaskNames)}.", nameof(task)),
    };

    /// <summary>A new environment for <paramref name="task"/> ("push", "peg-insert" or "pick-place").</summary>
    public static SimEnvironment Create(string task, SimOptions? options = null) => new(CreateTask(task), options ?? new SimOptions());

    /// <summary>The scripted expert of <paramref name="task"/> for the given action scale (metres per unit action).</summary>
    public static IExpert CreateExpert(string task, SimOptions? options = null) =>
        CreateTask(task).CreateExpert((options ?? new SimOptions()).ActionScale);
}
