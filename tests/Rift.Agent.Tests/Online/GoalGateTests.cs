using Rift.Agent.Online;
using Rift.Learning;
using Xunit;

namespace Rift.Agent.Tests.Online;

public sealed class GoalGateTests
{
    private sealed class Recorder : IGoalConditionedPolicy
    {
        public float[] LastGoal = [];
        public int InputSize => 2;
        public int GoalSize => 2;
        public int ActionSize => 1;
        public void Act(ReadOnlySpan<float> input, ReadOnlySpan<float> goal, Span<float> action) => LastGoal = goal.ToArray();
    }

    [Fact]
    public void Act_GoalNearOrFar_PassesGoalOrNullGoal()
    {
        var inner = new Recorder();
        var gate = new GoalGate(inner, new StateFeatureEncoder([0f, 0f], [1f, 1f]), 0.9);
        var a = new float[1];
        gate.Act([1f, 0f], [2f, 0.1f], a);
        Assert.Equal([2f, 0.1f], inner.LastGoal);
        gate.Act([1f, 0f], [0f, 1f], a);
        Assert.Equal([0f, 0f], inner.LastGoal);
    }
}
