using System.ComponentModel.DataAnnotations;

namespace Rift.Memory;

/// <summary>Recovery memory configuration (section <c>RecoveryMemory</c>); defaults from UniIntervene's reference (DESIGN.md §6).</summary>
public sealed class RecoveryMemoryOptions
{
    /// <summary>Vector collection holding the targets. Default "recovery".</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")]
    public string Collection { get; set; } = "recovery";

    /// <summary>Similarity metric of the collection: Cosine (default) or L2.</summary>
    public DistanceMetric Metric { get; set; } = DistanceMetric.Cosine;

    /// <summary>Insertion rule: a recovery may take at most this many steps. Default 32 (reference span).</summary>
    [Range(1, 1_000_000)]
    public int MaxSpanSteps { get; set; } = 32;

    /// <summary>Insertion rule: target value minus start value must be at least this. Default 0.4 (reference Δv).</summary>
    [Range(0.0, 10.0)]
    public float MinValueGain { get; set; } = 0.4f;

    /// <summary>Insertion rule: the target's value must be at least this. Default 0.75 (reference).</summary>
    [Range(-10.0, 10.0)]
    public float MinTargetValue { get; set; } = 0.75f;

    /// <summary>Target selection: only items with value ≥ this are returned. Default 0.75.</summary>
    [Range(-10.0, 10.0)]
    public float SelectionMinValue { get; set; } = 0.75f;

    /// <summary>Target selection: score = similarity + ValueWeight · value (similarity: cosine, or −distance for L2). Default 0.1.</summary>
    [Range(0.0, 100.0)]
    public float ValueWeight { get; set; } = 0.1f;

    /// <summary>Target selection: the nearest this-many qualifying items are scored. Default 16.</summary>
    [Range(1, 10_000)]
    public int Candidates { get; set; } = 16;

    /// <summary>Target selection: candidates with similarity below this are ignored (cosine only). Default -1 (none).</summary>
    [Range(-1.0, 1.0)]
    public float MinSimilarity { get; set; } = -1f;

    /// <summary>Capacity: at most this many items (all tasks); beyond it the lowest-value, then oldest, item is evicted. Default 4096.</summary>
    [Range(1, 10_000_000)]
    public int Capacity { get; set; } = 4096;
}
