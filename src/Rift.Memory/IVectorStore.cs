namespace Rift.Memory;

/// <summary>
/// A store of fixed-dimension vector collections with payloads. Implementations: <see cref="Embedded.EmbeddedVectorStore"/>
/// (default) and <see cref="Qdrant.QdrantVectorStore"/>; pick one with <see cref="VectorStore.Open"/>.
/// Writes are acknowledged when the call returns. Bad input (unknown collection, wrong dimension, non-finite
/// components) throws before anything changes.
/// </summary>
public interface IVectorStore : IDisposable
{
    /// <summary>Creates the collection, or checks that an existing one has this dimension and metric (throws otherwise).</summary>
    CollectionInfo CreateCollection(string name, int dimension, DistanceMetric metric);

    /// <summary>The collection's shape and item count, or null if it does not exist.</summary>
    CollectionInfo? GetCollection(string name);

    /// <summary>Inserts or replaces items (one durable batch).</summary>
    void Upsert(string collection, IReadOnlyList<VectorItem> items);

    /// <summary>Deletes items by id; returns how many existed.</summary>
    int Delete(string collection, IReadOnlyList<ulong> ids);

    /// <summary>The item with this id, or null.</summary>
    VectorItem? Get(string collection, ulong id);

    /// <summary>All items matching <paramref name="filter"/> (vectors included when asked).</summary>
    IReadOnlyList<VectorItem> List(string collection, PayloadFilter? filter = null, bool withVectors = false);

    /// <summary>The k items closest to <paramref name="query"/> among those matching <paramref name="filter"/>, best first.</summary>
    IReadOnlyList<SearchHit> Search(string collection, ReadOnlySpan<float> query, int k, PayloadFilter? filter = null, SearchMode mode = SearchMode.Auto);

    /// <summary>Forces every acknowledged write to stable storage.</summary>
    void Flush();
}

/// <summary>Convenience overloads.</summary>
public static class VectorStoreExtensions
{
    public static void Upsert(this IVectorStore store, string collection, VectorItem item) => store.Upsert(collection, [item]);

    public static bool Delete(this IVectorStore store, string collection, ulong id) => store.Delete(collection, [id]) > 0;
}

/// <summary>Chooses the backend from configuration.</summary>
public static class VectorStore
{
    public static IVectorStore Open(VectorStoreOptions options) => options.Backend switch
    {
        VectorStoreBackend.Embedded => new Embedded.EmbeddedVectorStore(options),
        VectorStoreBackend.Qdrant => new Qdrant.QdrantVectorStore(options),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Backend, "unknown vector store backend"),
    };

    /// <summary>Throws a clear error if <paramref name="vector"/> has the wrong length or a non-finite component.</summary>
    public static void CheckVector(string collection, ReadOnlySpan<float> vector, int dimension, string what = "vector")
    {
        if (vector.Length != dimension)
            throw new ArgumentException($"{what} has dimension {vector.Length} but collection '{collection}' has dimension {dimension}");
        for (var i = 0; i < vector.Length; i++)
            if (!float.IsFinite(vector[i]))
                throw new ArgumentException($"{what} component {i} is {vector[i]} (must be finite) for collection '{collection}'");
    }

    /// <summary>Collection names become directory names and URL segments: letters, digits, '-', '_', '.' only.</summary>
    public static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128 || name[0] == '.' || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException($"collection name '{name}' is invalid (1–128 characters: letters, digits, '-', '_', '.'; not starting with '.')");
    }
}
