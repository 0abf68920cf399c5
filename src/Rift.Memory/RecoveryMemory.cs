namespace Rift.Memory;

/// <summary>
/// Recovery memory (DESIGN.md §6, UniIntervene): targets reached by verified recoveries, looked up by similarity to
/// the current embedding. Insertion keeps a segment only if it was short, gained enough value and ended high;
/// a query returns the best of the nearest high-value targets of the same task; over capacity the lowest-value,
/// then oldest, item is evicted. Thread-safe: inserts are serialised, queries run concurrently.
/// </summary>
public sealed class RecoveryMemory : IRecoveryMemory, IDisposable
{
    private readonly IVectorStore _store;
    private readonly RecoveryMemoryOptions _o;
    private readonly TimeProvider _time;
    private readonly bool _ownsStore;
    private readonly Lock _gate = new();

    // Eviction order over all items: lowest value first, then oldest (time, then id). Mirrors the store.
    private readonly SortedSet<(float Value, long Time, ulong Id)> _evictionOrder = new();
    private ulong _lastId;

    public int Dimension { get; }

    public RecoveryMemory(IVectorStore store, RecoveryMemoryOptions options, int dimension, TimeProvider? time = null, bool ownsStore = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _o = options;
        _time = time ?? TimeProvider.System;
        _ownsStore = ownsStore;
        Dimension = dimension;
        store.CreateCollection(options.Collection, dimension, options.Metric);
        foreach (var item in store.List(options.Collection))
        {
            _evictionOrder.Add((item.Payload.Value, item.Payload.TimeUnixMs, item.Id));
            _lastId = Math.Max(_lastId, item.Id);
        }
    }

    /// <summary>Opens the store chosen by <paramref name="storeOptions"/> and the memory on top of it (disposing it disposes the store).</summary>
    public static RecoveryMemory Open(VectorStoreOptions storeOptions, RecoveryMemoryOptions options, int dimension, TimeProvider? time = null)
    {
        var store = VectorStore.Open(storeOptions);
        try
        {
            return new RecoveryMemory(store, options, dimension, time, ownsStore: true);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public int Count
    {
        get
        {
            lock (_gate) return _evictionOrder.Count;
        }
    }

    /// <summary>The insertion rule alone: span ≤ MaxSpanSteps, Δv ≥ MinValueGain, target value ≥ MinTargetValue.</summary>
    public bool Accepts(RecoverySegment s) =>
        s.SpanSteps > 0 && s.SpanSteps <= _o.MaxSpanSteps
        && s.TargetValue - s.StartValue >= _o.MinValueGain
        && s.TargetValue >= _o.MinTargetValue;

    public ulong? TryInsert(RecoverySegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(segment.Task, nameof(segment.Task));
        ArgumentNullException.ThrowIfNull(segment.TargetEmbedding, nameof(segment.TargetEmbedding));
        VectorStore.CheckVector(_o.Collection, segment.TargetEmbedding, Dimension, "recovery target embedding");
        if (!float.IsFinite(segment.StartValue) || !float.IsFinite(segment.TargetValue))
            throw new ArgumentException($"recovery segment values must be finite (start {segment.StartValue}, target {segment.TargetValue})");
        if (!Accepts(segment)) return null;

        lock (_gate)
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            // Ids grow with time (ms << 12 plus a random low part) so robots sharing a Qdrant collection rarely collide.
            var id = Math.Max(_lastId + 1, ((ulong)now << 12) | (uint)Random.Shared.Next(1 << 12));
            var payload = new MemoryPayload(segment.Task, segment.TargetValue, segment.TargetValue - segment.StartValue, segment.Source, segment.Episode, segment.Step, now);
            var key = (payload.Value, now, id);

            // Full: the newcomer would itself be the one evicted if its value is below every stored item's.
            // (On a tie the stored item is older, so it goes.)
            if (_evictionOrder.Count >= _o.Capacity && payload.Value < _evictionOrder.Min.Value) return null;
            _store.Upsert(_o.Collection, new VectorItem(id, segment.TargetEmbedding.ToArray(), payload));
            _evictionOrder.Add(key);
            _lastId = id;
            while (_evictionOrder.Count > _o.Capacity)
            {
                var worst = _evictionOrder.Min;
                _store.Delete(_o.Collection, [worst.Id]);
                _evictionOrder.Remove(worst);
            }
            return id;
        }
    }

    public RecoveryTarget? Query(ReadOnlySpan<float> embedding, string task)
    {
        ArgumentNullException.ThrowIfNull(task);
        VectorStore.CheckVector(_o.Collection, embedding, Dimension, "query embedding");
        var filter = new PayloadFilter { Task = task, Value = new Range<float>(_o.SelectionMinValue, null) };
        var hits = _store.Search(_o.Collection, embedding, _o.Candidates, filter);
        RecoveryTarget? best = null;
        foreach (var h in hits)
        {
            if (_o.Metric == DistanceMetric.Cosine && h.Score < _o.MinSimilarity) continue;
            var score = h.Score + _o.ValueWeight * h.Payload.Value;
            if (best is null || score > best.Score)
                best = new RecoveryTarget(h.Id, h.Vector, h.Payload.Value, score, h.Payload.Source, h.Payload.Episode, h.Payload.Step);
        }
        return best;
    }

    /// <summary>Removes every item (all tasks).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _store.Delete(_o.Collection, _evictionOrder.Select(e => e.Id).ToArray());
            _evictionOrder.Clear();
        }
    }

    public void Dispose()
    {
        if (_ownsStore) _store.Dispose();
    }
}
