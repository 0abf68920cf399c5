namespace Rift.Memory;

/// <summary>Who completed a recovery.</summary>
public enum RecoverySource : byte
{
    Agent = 0,
    Human = 1,
}

/// <summary>
/// A finished recovery segment offered to the memory: where it started (value before) and the state it reached
/// (embedding and value after). The memory decides by its insertion rule whether to keep the target.
/// </summary>
public sealed record RecoverySegment(
    string Task,
    float[] TargetEmbedding,
    float StartValue,
    float TargetValue,
    int SpanSteps,
    RecoverySource Source,
    long Episode,
    int Step);

/// <summary>A stored high-value state returned as a recovery goal.</summary>
public sealed record RecoveryTarget(ulong Id, float[] Embedding, float Value, float Score, RecoverySource Source, long Episode, int Step);

/// <summary>The recovery memory used by the arbitration loop.</summary>
public interface IRecoveryMemory
{
    int Count { get; }

    /// <summary>Applies the insertion rule; returns the id of the stored item, or null if the segment was rejected.</summary>
    ulong? TryInsert(RecoverySegment segment);

    /// <summary>The best target for <paramref name="embedding"/> among items of <paramref name="task"/>, or null if none qualifies.</summary>
    RecoveryTarget? Query(ReadOnlySpan<float> embedding, string task);
}
