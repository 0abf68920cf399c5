namespace Rift.Learning;

/// <summary>A goal-conditioned policy π(a | input, goal); the recovery policy drives toward a goal embedding.</summary>
public interface IGoalConditionedPolicy
{
    int InputSize { get; }
    int GoalSize { get; }
    int ActionSize { get; }

    void Act(ReadOnlySpan<float> input, ReadOnlySpan<float> goal, Span<float> action);
}
