using Rift.Learning;

namespace Rift.ValueCritic;

/// <summary>A frozen encoder from an observation's camera frame (or supplied embedding) to a latent z.</summary>
public interface IFrameEncoder
{
    int Dimension { get; }

    /// <summary>Writes z for <paramref name="observation"/>; throws if the frame or embedding is missing or has the wrong size.</summary>
    void Encode(Observation observation, Span<float> z);
}

/// <summary>The future-conditioned value critic: Q(s, a) = V(P(z, a)).</summary>
public interface IValueCritic
{
    int EmbeddingSize { get; }
    int ActionSize { get; }

    /// <summary>Q for latent <paramref name="z"/> and action <paramref name="action"/>, in roughly [0, 1] (proxy progress).</summary>
    float Evaluate(ReadOnlySpan<float> z, ReadOnlySpan<float> action);
}

/// <summary>Why a trigger fired.</summary>
public enum TriggerReason : byte
{
    None = 0,
    Decline = 1,
    Plateau = 2,
    AbruptDrop = 3,
    Learned = 4,
    FailureClassifier = 5,
    ValueThreshold = 6,
}

/// <summary>Decides from the stream of values whether a rollout has stopped making progress.</summary>
public interface IRiskTrigger
{
    /// <summary>Clears the window and cooldown (new episode, or after a hand-back).</summary>
    void Reset();

    /// <summary>Adds the value of the current step; returns the reason if the trigger fires now.</summary>
    TriggerReason Update(float value);
}
