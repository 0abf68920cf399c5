namespace Rift.Memory;

/// <summary>Similarity metric of a collection. Search scores are always "higher is better".</summary>
public enum DistanceMetric : byte
{
    /// <summary>Score = cosine similarity in [-1, 1].</summary>
    Cosine = 0,

    /// <summary>Score = minus the Euclidean distance.</summary>
    L2 = 1,
}

/// <summary>How a search is executed.</summary>
public enum SearchMode
{
    /// <summary>Exact below <see cref="VectorStoreOptions.QuantizedScanMinItems"/> items, Quantized from there on.</summary>
    Auto = 0,

    /// <summary>
    /// Exact top-k: an int8 scan gives every item a score interval from a rigorous quantisation error bound; only
    /// items whose interval can reach the top-k are scored in float32. Returns the same items as BruteForce.
    /// </summary>
    Exact = 1,

    /// <summary>int8 scan keeping k × RerankFactor candidates, re-ranked exactly in float32 (approximate).</summary>
    Quantized = 2,

    /// <summary>Every item scored in float32.</summary>
    BruteForce = 3,
}

/// <summary>What is stored with each vector.</summary>
public readonly record struct MemoryPayload(
    string Task,
    float Value,
    float ValueGain,
    RecoverySource Source,
    long Episode,
    int Step,
    long TimeUnixMs);

/// <summary>One item: id, vector and payload.</summary>
public sealed record VectorItem(ulong Id, float[] Vector, MemoryPayload Payload);

/// <summary>A search result; <see cref="Score"/> is higher for closer items (cosine similarity, or −Euclidean distance).</summary>
public sealed record SearchHit(ulong Id, float Score, MemoryPayload Payload, float[] Vector);

/// <summary>A collection's fixed shape.</summary>
public sealed record CollectionInfo(string Name, int Dimension, DistanceMetric Metric, long Count);

/// <summary>Inclusive range; a null bound is open.</summary>
public readonly record struct Range<T>(T? Min, T? Max) where T : struct, IComparable<T>
{
    public bool Contains(T v) => (Min is not { } lo || v.CompareTo(lo) >= 0) && (Max is not { } hi || v.CompareTo(hi) <= 0);
}

/// <summary>
/// Payload filter: every set condition must hold (AND). Equality on Task, Source, Episode and Step;
/// inclusive ranges on Value, ValueGain, Episode, Step and TimeUnixMs.
/// </summary>
public sealed record PayloadFilter
{
    public string? Task { get; init; }
    public RecoverySource? Source { get; init; }
    public long? Episode { get; init; }
    public int? Step { get; init; }
    public Range<float>? Value { get; init; }
    public Range<float>? ValueGain { get; init; }
    public Range<long>? EpisodeRange { get; init; }
    public Range<int>? StepRange { get; init; }
    public Range<long>? TimeUnixMs { get; init; }

    public bool Matches(in MemoryPayload p) =>
        (Task is null || string.Equals(Task, p.Task, StringComparison.Ordinal))
        && (Source is not { } s || s == p.Source)
        && (Episode is not { } e || e == p.Episode)
        && (Step is not { } st || st == p.Step)
        && (Value is not { } v || v.Contains(p.Value))
        && (ValueGain is not { } g || g.Contains(p.ValueGain))
        && (EpisodeRange is not { } er || er.Contains(p.Episode))
        && (StepRange is not { } sr || sr.Contains(p.Step))
        && (TimeUnixMs is not { } t || t.Contains(p.TimeUnixMs));
}

/// <summary>A collection name that does not exist in the store.</summary>
public sealed class CollectionNotFoundException(string collection)
    : KeyNotFoundException($"vector collection '{collection}' does not exist (create it first with CreateCollection)")
{
    public string Collection { get; } = collection;
}
