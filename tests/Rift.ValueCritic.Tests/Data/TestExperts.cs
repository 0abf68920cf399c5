using Rift.Learning;

namespace Rift.ValueCritic.Tests.Data;

/// <summary>An expert that always commands a₀ = <paramref name="speed"/> and nothing else (0: holds still, grip 0).</summary>
internal sealed class ConstantExpert(float speed) : IExpert
{
    public void Reset() { }

    public void Act(Observation observation, Span<float> action)
    {
        action.Clear();
        action[0] = speed;
    }
}
