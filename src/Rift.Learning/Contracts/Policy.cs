namespace Rift.Learning;

/// <summary>A policy over the environment's policy input vector; actions in [-1, 1].</summary>
public interface IPolicy
{
    int InputSize { get; }
    int ActionSize { get; }

    /// <summary>
    /// Writes an action for <paramref name="input"/>. Deterministic actions use the mode (tanh of the mean);
    /// stochastic ones sample using <paramref name="rng"/>.
    /// </summary>
    void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng);
}

/// <summary>A controller that sees privileged state (scripted experts in simulation).</summary>
public interface IExpert
{
    void Reset();
    void Act(Observation observation, Span<float> action);
}
