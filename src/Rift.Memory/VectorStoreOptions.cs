using System.ComponentModel.DataAnnotations;

namespace Rift.Memory;

/// <summary>Which vector store backs the memory.</summary>
public enum VectorStoreBackend
{
    /// <summary>In-process store with append-only segment files; needs no server.</summary>
    Embedded = 0,

    /// <summary>A Qdrant server over its REST API, for fleets sharing one memory.</summary>
    Qdrant = 1,
}

/// <summary>When the embedded store forces written records to stable storage (fsync).</summary>
public enum FsyncPolicy
{
    /// <summary>fsync before every write is acknowledged: survives power loss, slowest.</summary>
    EveryWrite = 0,

    /// <summary>fsync at most every <see cref="VectorStoreOptions.FsyncIntervalMs"/> ms in the background (and on Flush/Dispose).</summary>
    Batched = 1,

    /// <summary>Never fsync explicitly; the OS writes back when it likes.</summary>
    None = 2,
}

/// <summary>
/// Vector store configuration (section <c>VectorStore</c>). Every policy hands each record to the OS before a write
/// returns, so acknowledged writes survive a crash of the process; <see cref="Fsync"/> decides what survives a
/// crash of the machine.
/// </summary>
public sealed class VectorStoreOptions : IValidatableObject
{
    /// <summary>Backend: Embedded (default) or Qdrant.</summary>
    public VectorStoreBackend Backend { get; set; } = VectorStoreBackend.Embedded;

    /// <summary>Directory of the embedded store (one sub-directory per collection). Default "memory"; relative paths resolve against the working directory.</summary>
    [Required]
    public string Path { get; set; } = "memory";

    /// <summary>Base URL of the Qdrant REST API when Backend = Qdrant. Default "http://localhost:6333".</summary>
    [Required]
    public string QdrantUrl { get; set; } = "http://localhost:6333";

    /// <summary>Optional Qdrant API key (sent as the api-key header). Default empty (none).</summary>
    public string QdrantApiKey { get; set; } = "";

    /// <summary>Timeout of one Qdrant request in milliseconds. Default 10000.</summary>
    [Range(100, 600_000)]
    public int QdrantTimeoutMs { get; set; } = 10_000;

    /// <summary>fsync policy of the embedded store: EveryWrite (default), Batched or None.</summary>
    public FsyncPolicy Fsync { get; set; } = FsyncPolicy.EveryWrite;

    /// <summary>Background fsync interval in milliseconds when Fsync = Batched. Default 50.</summary>
    [Range(1, 60_000)]
    public int FsyncIntervalMs { get; set; } = 50;

    /// <summary>A segment file is closed and a new one started once it exceeds this many bytes. Default 64 MiB.</summary>
    [Range(1L << 16, 1L << 40)]
    public long SegmentMaxBytes { get; set; } = 64L << 20;

    /// <summary>Search mode Auto uses the int8 scan with exact re-ranking from this many items on (exact search below). Default 50000.</summary>
    [Range(0, int.MaxValue)]
    public int QuantizedScanMinItems { get; set; } = 50_000;

    /// <summary>The int8 scan keeps k × this many candidates for exact re-ranking. Default 10.</summary>
    [Range(1, 1000)]
    public int RerankFactor { get; set; } = 10;

    /// <summary>
    /// Quantized search first scans only this many leading int8 coordinates of the rotated vectors (a multiple of 64;
    /// 0 or at least the dimension = scan all), then completes the int8 score for the best PrefilterCandidates.
    /// Default 256.
    /// </summary>
    [Range(0, 65_536)]
    public int PrefilterDims { get; set; } = 256;

    /// <summary>Quantized search: candidates kept by the prefix scan (at least k × RerankFactor). Default 1000.</summary>
    [Range(1, 1_000_000)]
    public int PrefilterCandidates { get; set; } = 1000;

    /// <summary>Compact a collection automatically when dead records exceed this fraction of its log (0 = never). Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double AutoCompactDeadFraction { get; set; } = 0.5;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PrefilterDims % 64 != 0)
            yield return new ValidationResult($"PrefilterDims {PrefilterDims} must be a multiple of 64", [nameof(PrefilterDims)]);
        if (Backend == VectorStoreBackend.Qdrant && !Uri.TryCreate(QdrantUrl, UriKind.Absolute, out _))
            yield return new ValidationResult($"QdrantUrl '{QdrantUrl}' is not an absolute URL", [nameof(QdrantUrl)]);
    }
}
