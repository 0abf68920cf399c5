using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rift.Memory.Embedded;

/// <summary>
/// The default vector store: in-process, no server. Each collection lives in <c>{Path}/{name}/</c> as
/// <c>collection.json</c> (dimension, metric) plus append-only segment files (see <see cref="SegmentLog"/>);
/// collections are loaded on first use. Thread-safe: one writer at a time per collection, concurrent readers.
/// </summary>
public sealed class EmbeddedVectorStore : IVectorStore
{
    private readonly VectorStoreOptions _options;
    private readonly string _root;
    private readonly Dictionary<string, Collection> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private bool _disposed;

    public EmbeddedVectorStore(VectorStoreOptions options)
    {
        _options = options;
        _root = System.IO.Path.GetFullPath(options.Path);
        Directory.CreateDirectory(_root);
    }

    /// <summary>Absolute directory of the store.</summary>
    public string Path => _root;

    private sealed record Meta(int Format, int Dimension, [property: JsonConverter(typeof(JsonStringEnumConverter<DistanceMetric>))] DistanceMetric Metric);

    public CollectionInfo CreateCollection(string name, int dimension, DistanceMetric metric)
    {
        VectorStore.CheckName(name);
        if (dimension <= 0 || dimension > 65_536) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be in [1, 65536]");
        if (!Enum.IsDefined(metric)) throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric");
        lock (_gate)
        {
            var existing = OpenLocked(name);
            if (existing is not null)
            {
                if (existing.Dimension != dimension || existing.Metric != metric)
                    throw new InvalidOperationException($"vector collection '{name}' exists with dimension {existing.Dimension} / {existing.Metric}, not {dimension} / {metric}");
                return new CollectionInfo(name, existing.Dimension, existing.Metric, existing.Count);
            }
            var dir = System.IO.Path.Combine(_root, name);
            Directory.CreateDirectory(dir);
            var metaPath = System.IO.Path.Combine(dir, "collection.json");
            var tmp = metaPath + ".tmp";
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(fs, new Meta(1, dimension, metric));
                fs.Flush(true);
            }
            File.Move(tmp, metaPath, overwrite: true);
            var c = new Collection(name, dir, dimension, metric, _options);
            _open[name] = c;
            return new CollectionInfo(name, dimension, metric, 0);
        }
    }

    public CollectionInfo? GetCollection(string name)
    {
        VectorStore.CheckName(name);
        lock (_gate)
        {
            var c = OpenLocked(name);
            return c is null ? null : new CollectionInfo(name, c.Dimension, c.Metric, c.Count);
        }
    }

    /// <summary>Names of the collections on disk.</summary>
    public IReadOnlyList<string> CollectionNames() =>
        Directory.EnumerateDirectories(_root)
            .Where(d => File.Exists(System.IO.Path.Combine(d, "collection.json")))
            .Select(d => System.IO.Path.GetFileName(d)!)
            .Order(StringComparer.Ordinal)
            .ToArray();

    private Collection? OpenLocked(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_open.TryGetValue(name, out var c)) return c;
        var dir = System.IO.Path.Combine(_root, name);
        var metaPath = System.IO.Path.Combine(dir, "collection.json");
        if (!File.Exists(metaPath)) return null;
        Meta meta;
        try
        {
            meta = JsonSerializer.Deserialize<Meta>(File.ReadAllText(metaPath)) ?? throw new InvalidDataException("empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{metaPath}' is not a valid collection description: {e.Message}", e);
        }
        c = new Collection(name, dir, meta.Dimension, meta.Metric, _options);
        _open[name] = c;
        return c;
    }

    private Collection Require(string name)
    {
        VectorStore.CheckName(name);
        lock (_gate) return OpenLocked(name) ?? throw new CollectionNotFoundException(name);
    }

    public void Upsert(string collection, IReadOnlyList<VectorItem> items) => Require(collection).Upsert(items);

    public int Delete(string collection, IReadOnlyList<ulong> ids) => Require(collection).Delete(ids);

    public VectorItem? Get(string collection, ulong id) => Require(collection).Get(id);

    public IReadOnlyList<VectorItem> List(string collection, PayloadFilter? filter = null, bool withVectors = false) =>
        Require(collection).List(filter, withVectors);

    public IReadOnlyList<SearchHit> Search(string collection, ReadOnlySpan<float> query, int k, PayloadFilter? filter = null, SearchMode mode = SearchMode.Auto) =>
        Require(collection).Search(query, k, filter, mode);

    /// <summary>Rewrites the collection's log with its live items only (also done automatically, see AutoCompactDeadFraction).</summary>
    public void Compact(string collection) => Require(collection).Compact();

    /// <summary>Storage figures of a collection: log bytes, segment files, bytes cut from a torn tail when it was opened.</summary>
    public (long LogBytes, int Segments, long TruncatedBytes) Storage(string collection)
    {
        var c = Require(collection);
        return (c.LogBytes, c.SegmentCount, c.TruncatedBytes);
    }

    public void Flush()
    {
        lock (_gate)
            foreach (var c in _open.Values) c.Flush();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var c in _open.Values) c.Dispose();
            _open.Clear();
        }
    }
}
