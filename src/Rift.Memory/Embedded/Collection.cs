using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Rift.Memory.Embedded;

/// <summary>
/// One collection of the embedded store: a column-oriented in-memory index (float32 vectors, int8 codes, payload
/// columns) rebuilt from its <see cref="SegmentLog"/> on open. One writer at a time (writes are serialised and
/// applied under a write lock after the log has them); any number of concurrent searches under a read lock.
/// Deleting moves the last item into the freed slot, so every scan runs over a dense prefix without tombstones.
/// </summary>
internal sealed class Collection : IDisposable
{
    private readonly VectorStoreOptions _options;
    private readonly SegmentLog _log;
    private readonly Lock _writeGate = new();
    private readonly ReaderWriterLockSlim _rw = new(LockRecursionPolicy.NoRecursion);
    private readonly int _rotated;   // P: rotated, padded length
    private readonly int _head;      // leading code bytes scanned first by Quantized search
    private readonly int _tail;      // P − head
    private readonly float[] _signs;
    private readonly Dictionary<ulong, int> _slotOf = [];
    private readonly List<string> _taskNames = [];
    private readonly Dictionary<string, int> _taskIds = new(StringComparer.Ordinal);

    // Columns, one entry per slot [0, _count).
    private float[] _vectors = [];
    private byte[] _headCodes = [], _tailCodes = [];
    private float[] _norm = [], _scale = [], _deqNorm = [], _resNorm = [];
    private ulong[] _ids = [];
    private int[] _task = [], _step = [];
    private float[] _value = [], _gain = [];
    private byte[] _source = [];
    private long[] _episode = [], _time = [];
    private int _count;
    private long _liveBytes;

    public string Name { get; }
    public int Dimension { get; }
    public DistanceMetric Metric { get; }

    public Collection(string name, string dir, int dimension, DistanceMetric metric, VectorStoreOptions options)
    {
        Name = name;
        Dimension = dimension;
        Metric = metric;
        _options = options;
        if (options.PrefilterDims % 64 != 0)
            throw new ArgumentException($"VectorStore PrefilterDims {options.PrefilterDims} must be a multiple of 64");
        _rotated = Int8Kernels.RotatedLength(dimension);
        _head = options.PrefilterDims > 0 && options.PrefilterDims < _rotated ? options.PrefilterDims : _rotated;
        _tail = _rotated - _head;
        _signs = Int8Kernels.RotationSigns(_rotated);
        _log = SegmentLog.Open(dir, dimension, metric, options, Replay);
    }

    public int Count
    {
        get
        {
            _rw.EnterReadLock();
            try { return _count; }
            finally { _rw.ExitReadLock(); }
        }
    }

    public long LogBytes => _log.TotalBytes;
    public int SegmentCount => _log.SegmentCount;
    public long TruncatedBytes => _log.TruncatedBytes;

    private int RecordBytes(string task) => SegmentLog.UpsertRecordBytes(task, Dimension);

    private void Replay(byte kind, ulong id, in MemoryPayload payload, ReadOnlySpan<float> vector)
    {
        if (kind == SegmentLog.KindUpsert) Put(id, payload, vector);
        else Remove(id);
    }

    // ---- writes ---------------------------------------------------------------------------------------------------

    public void Upsert(IReadOnlyList<VectorItem> items)
    {
        if (items.Count == 0) return;
        // Everything is checked before the log is touched: bad input changes nothing.
        var total = 0;
        foreach (var item in items)
        {
            ArgumentNullException.ThrowIfNull(item);
            ArgumentNullException.ThrowIfNull(item.Vector, nameof(item.Vector));
            ArgumentNullException.ThrowIfNull(item.Payload.Task, "payload task");
            VectorStore.CheckVector(Name, item.Vector, Dimension, $"vector of item {item.Id}");
            if (!float.IsFinite(item.Payload.Value) || !float.IsFinite(item.Payload.ValueGain))
                throw new ArgumentException($"payload of item {item.Id} has a non-finite value ({item.Payload.Value}) or value gain ({item.Payload.ValueGain})");
            if (!Enum.IsDefined(item.Payload.Source)) throw new ArgumentException($"payload of item {item.Id} has unknown source {(int)item.Payload.Source}");
            var bytes = RecordBytes(item.Payload.Task);
            if (bytes > SegmentLog.FrameBytes + 35 + ushort.MaxValue + Dimension * 4)
                throw new ArgumentException($"task name of item {item.Id} is longer than {ushort.MaxValue} UTF-8 bytes");
            total += bytes;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            var o = 0;
            foreach (var item in items) o += _log.EncodeUpsert(buffer.AsSpan(o), item.Id, item.Payload, item.Vector);
            lock (_writeGate)
            {
                _log.Append(buffer.AsSpan(0, o));
                _rw.EnterWriteLock();
                try
                {
                    foreach (var item in items) Put(item.Id, item.Payload, item.Vector);
                }
                finally { _rw.ExitWriteLock(); }
                MaybeCompact();
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    public int Delete(IReadOnlyList<ulong> ids)
    {
        lock (_writeGate)
        {
            // Only ids that exist are logged; deleting a missing id is a no-op.
            var present = ids.Distinct().Where(_slotOf.ContainsKey).ToArray();
            if (present.Length == 0) return 0;
            var buffer = new byte[present.Length * SegmentLog.DeleteRecordBytes];
            for (var i = 0; i < present.Length; i++) SegmentLog.EncodeDelete(buffer.AsSpan(i * SegmentLog.DeleteRecordBytes), present[i]);
            _log.Append(buffer);
            _rw.EnterWriteLock();
            try
            {
                foreach (var id in present) Remove(id);
            }
            finally { _rw.ExitWriteLock(); }
            MaybeCompact();
            return present.Length;
        }
    }

    public void Flush() => _log.Flush();

    /// <summary>Rewrites the log with live items only.</summary>
    public void Compact()
    {
        lock (_writeGate) CompactLocked();
    }

    private void MaybeCompact()
    {
        var f = _options.AutoCompactDeadFraction;
        if (f <= 0 || _log.TotalBytes < (1 << 20)) return;
        if (1.0 - (double)_liveBytes / _log.TotalBytes > f) CompactLocked();
    }

    private void CompactLocked()
    {
        // The write gate is held, so nothing mutates the columns while they are read here.
        _log.Compact(LiveRecords());
    }

    private IEnumerable<ReadOnlyMemory<byte>> LiveRecords()
    {
        var buffer = new byte[RecordBytes("") + ushort.MaxValue];
        for (var s = 0; s < _count; s++)
        {
            var n = _log.EncodeUpsert(buffer, _ids[s], PayloadAt(s), _vectors.AsSpan(s * Dimension, Dimension));
            yield return buffer.AsMemory(0, n);
        }
    }

    private void Put(ulong id, in MemoryPayload p, ReadOnlySpan<float> vector)
    {
        if (!_slotOf.TryGetValue(id, out var s))
        {
            s = _count++;
            EnsureCapacity(_count);
            _slotOf[id] = s;
        }
        else
        {
            _liveBytes -= RecordBytes(_taskNames[_task[s]]);
        }
        _liveBytes += RecordBytes(p.Task);
        _ids[s] = id;
        vector.CopyTo(_vectors.AsSpan(s * Dimension, Dimension));
        _norm[s] = TensorPrimitives.Norm(vector);
        var q = Encode(vector, 128, _headCodes.AsSpan(s * _head, _head), _tailCodes.AsSpan(s * _tail, _tail), out _);
        (_scale[s], _deqNorm[s], _resNorm[s]) = (q.Scale, q.DequantizedNorm, q.ResidualNorm);
        if (!_taskIds.TryGetValue(p.Task, out var t))
        {
            t = _taskNames.Count;
            _taskNames.Add(p.Task);
            _taskIds[p.Task] = t;
        }
        _task[s] = t;
        _value[s] = p.Value;
        _gain[s] = p.ValueGain;
        _source[s] = (byte)p.Source;
        _episode[s] = p.Episode;
        _step[s] = p.Step;
        _time[s] = p.TimeUnixMs;
    }

    /// <summary>Rotates and quantises <paramref name="v"/> into head and tail codes; <paramref name="headSum"/> = Σ head code values.</summary>
    private Int8Kernels.Quantized Encode(ReadOnlySpan<float> v, int offset, Span<byte> head, Span<byte> tail, out int headSum)
    {
        var y = ArrayPool<float>.Shared.Rent(_rotated);
        var code = ArrayPool<byte>.Shared.Rent(_rotated);
        try
        {
            Int8Kernels.Rotate(v, _signs, y.AsSpan(0, _rotated));
            var q = Int8Kernels.Quantize(y.AsSpan(0, _rotated), code.AsSpan(0, _rotated), offset);
            code.AsSpan(0, _head).CopyTo(head);
            code.AsSpan(_head, _tail).CopyTo(tail);
            headSum = 0;
            for (var i = 0; i < _head; i++) headSum += (sbyte)(byte)(code[i] - offset);
            return q;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(y);
            ArrayPool<byte>.Shared.Return(code);
        }
    }

    private void Remove(ulong id)
    {
        if (!_slotOf.Remove(id, out var s)) return;
        _liveBytes -= RecordBytes(_taskNames[_task[s]]);
        var last = --_count;
        if (s == last) return;
        _vectors.AsSpan(last * Dimension, Dimension).CopyTo(_vectors.AsSpan(s * Dimension, Dimension));
        _headCodes.AsSpan(last * _head, _head).CopyTo(_headCodes.AsSpan(s * _head, _head));
        _tailCodes.AsSpan(last * _tail, _tail).CopyTo(_tailCodes.AsSpan(s * _tail, _tail));
        _norm[s] = _norm[last]; _scale[s] = _scale[last]; _deqNorm[s] = _deqNorm[last]; _resNorm[s] = _resNorm[last];
        _ids[s] = _ids[last]; _task[s] = _task[last]; _value[s] = _value[last]; _gain[s] = _gain[last];
        _source[s] = _source[last]; _episode[s] = _episode[last]; _step[s] = _step[last]; _time[s] = _time[last];
        _slotOf[_ids[s]] = s;
    }

    private void EnsureCapacity(int n)
    {
        if (n <= _ids.Length) return;
        var cap = Math.Max(n, Math.Max(64, _ids.Length * 2));
        if ((long)cap * Dimension > Array.MaxLength) cap = Math.Max(n, (int)(Array.MaxLength / Dimension));
        if ((long)cap * Dimension > Array.MaxLength)
            throw new InvalidOperationException($"collection '{Name}' cannot hold {n} vectors of dimension {Dimension} (array limit)");
        Array.Resize(ref _vectors, cap * Dimension);
        Array.Resize(ref _headCodes, cap * _head);
        Array.Resize(ref _tailCodes, cap * _tail);
        Array.Resize(ref _norm, cap); Array.Resize(ref _scale, cap); Array.Resize(ref _deqNorm, cap); Array.Resize(ref _resNorm, cap);
        Array.Resize(ref _ids, cap); Array.Resize(ref _task, cap); Array.Resize(ref _value, cap); Array.Resize(ref _gain, cap);
        Array.Resize(ref _source, cap); Array.Resize(ref _episode, cap); Array.Resize(ref _step, cap); Array.Resize(ref _time, cap);
    }

    // ---- reads ----------------------------------------------------------------------------------------------------

    private MemoryPayload PayloadAt(int s) =>
        new(_taskNames[_task[s]], _value[s], _gain[s], (RecoverySource)_source[s], _episode[s], _step[s], _time[s]);

    private VectorItem ItemAt(int s, bool withVector) =>
        new(_ids[s], withVector ? _vectors.AsSpan(s * Dimension, Dimension).ToArray() : [], PayloadAt(s));

    public VectorItem? Get(ulong id)
    {
        _rw.EnterReadLock();
        try { return _slotOf.TryGetValue(id, out var s) ? ItemAt(s, true) : null; }
        finally { _rw.ExitReadLock(); }
    }

    public IReadOnlyList<VectorItem> List(PayloadFilter? filter, bool withVectors)
    {
        _rw.EnterReadLock();
        try
        {
            var m = Matcher(filter);
            var result = new List<VectorItem>();
            for (var s = 0; s < _count; s++)
                if (m.Matches(s)) result.Add(ItemAt(s, withVectors));
            return result;
        }
        finally { _rw.ExitReadLock(); }
    }

    /// <summary>Compiled payload filter over the columns (task compared by id, not string).</summary>
    private readonly struct FilterMatcher(Collection c, PayloadFilter? f, int task)
    {
        public bool None => f is not null && f.Task is not null && task < 0;

        public bool All => f is null;

        public bool Matches(int s)
        {
            if (f is null) return true;
            if (f.Task is not null && c._task[s] != task) return false;
            if (f.Source is { } src && c._source[s] != (byte)src) return false;
            if (f.Episode is { } e && c._episode[s] != e) return false;
            if (f.Step is { } st && c._step[s] != st) return false;
            if (f.Value is { } v && !v.Contains(c._value[s])) return false;
            if (f.ValueGain is { } g && !g.Contains(c._gain[s])) return false;
            if (f.EpisodeRange is { } er && !er.Contains(c._episode[s])) return false;
            if (f.StepRange is { } sr && !sr.Contains(c._step[s])) return false;
            if (f.TimeUnixMs is { } t && !t.Contains(c._time[s])) return false;
            return true;
        }
    }

    private FilterMatcher Matcher(PayloadFilter? f) =>
        new(this, f, f?.Task is { } task ? _taskIds.GetValueOrDefault(task, -1) : -1);

    /// <summary>Exact score in float32 (cosine similarity, or −Euclidean distance); brute force and re-ranking share it.</summary>
    private float ExactScore(ReadOnlySpan<float> q, float qNorm, int s)
    {
        var x = _vectors.AsSpan(s * Dimension, Dimension);
        if (Metric == DistanceMetric.L2) return -TensorPrimitives.Distance(q, x);
        var den = qNorm * _norm[s];
        return den > 0 ? TensorPrimitives.Dot(q, x) / den : 0f;
    }

    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, PayloadFilter? filter, SearchMode mode)
    {
        VectorStore.CheckVector(Name, query, Dimension, "query vector");
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be positive");
        _rw.EnterReadLock();
        try
        {
            var m = Matcher(filter);
            if (_count == 0 || m.None) return [];
            if (mode == SearchMode.Auto) mode = _count >= _options.QuantizedScanMinItems ? SearchMode.Quantized : SearchMode.Exact;
            var qNorm = TensorPrimitives.Norm(query);
            var top = new TopK(k);
            if (mode == SearchMode.BruteForce)
            {
                for (var s = 0; s < _count; s++)
                    if (m.Matches(s)) top.Offer(ExactScore(query, qNorm, s), s);
            }
            else
            {
                QuantizedSearch(query, qNorm, k, m, mode == SearchMode.Exact, top);
            }
            var order = top.Sorted();
            var hits = new SearchHit[order.Length];
            for (var i = 0; i < order.Length; i++)
            {
                var (score, s) = order[i];
                hits[i] = new SearchHit(_ids[s], score, PayloadAt(s), _vectors.AsSpan(s * Dimension, Dimension).ToArray());
            }
            return hits;
        }
        finally { _rw.ExitReadLock(); }
    }

    /// <summary>
    /// int8 scan over rotated codes. With x = b̂ + δ (item, dequantised + residual) and q = â + ε (query),
    /// q·x = â·b̂ + â·δ + ε·b̂ + ε·δ, so by Cauchy–Schwarz |q·x − â·b̂| ≤ ‖â‖‖δ‖ + ‖ε‖‖b̂‖ + ‖ε‖‖δ‖ with all norms known
    /// in advance (the rotation preserves them). Exact mode uses these intervals to re-rank in float32 only items that
    /// can still enter the top-k. Quantized mode scans the head codes, completes the int8 score of the best
    /// PrefilterCandidates with their tail codes, and re-ranks the best k × RerankFactor in float32.
    /// </summary>
    private void QuantizedSearch(ReadOnlySpan<float> query, float qNorm, int k, FilterMatcher m, bool exact, TopK top)
    {
        var qHead = ArrayPool<byte>.Shared.Rent(_head);
        var qTail = ArrayPool<byte>.Shared.Rent(Math.Max(_tail, 1));
        var n = _count;
        var hi = exact ? ArrayPool<float>.Shared.Rent(n) : null;
        var slots = exact ? ArrayPool<int>.Shared.Rent(n) : null;
        try
        {
            var qq = Encode(query, 0, qHead.AsSpan(0, _head), qTail.AsSpan(0, _tail), out var headSum);
            var headCorrection = 128 * headSum;
            var tailCorrection = 128 * (qq.Sum - headSum);
            var qSq = qNorm * qNorm;
            var invQ = qNorm > 0 ? 1f / qNorm : 0f;
            ref var qh = ref MemoryMarshal.GetArrayDataReference(qHead);
            ref var qt = ref MemoryMarshal.GetArrayDataReference(qTail);
            var l2 = Metric == DistanceMetric.L2;
            var rerank = Math.Min(n, k * _options.RerankFactor);
            // Quantized mode with a tail: the head scan only shortlists; otherwise it gives the full int8 score.
            var prefix = !exact && _tail > 0;
            var extrapolate = (float)_rotated / _head;
            var candidates = exact ? null : new TopK(prefix ? Math.Min(n, Math.Max(_options.PrefilterCandidates, rerank)) : rerank);
            var lowK = exact ? new TopK(k) : null;
            var floor = float.NegativeInfinity;
            var used = 0;
            Span<int> block = stackalloc int[4];
            Span<int> raw = stackalloc int[4];
            Span<int> rawTail = stackalloc int[4];
            var filled = 0;
            var all = m.All;
            var shortlistCap = candidates?.Capacity ?? 0;
            for (var next = 0; next <= n; next++)
            {
                // Gather four matching slots, score them together.
                if (next < n)
                {
                    if (!all && !m.Matches(next)) continue;
                    block[filled++] = next;
                    if (filled < 4) continue;
                }
                if (filled == 0) break;
                for (var f = filled; f < 4; f++) block[f] = block[0];
                Int8Kernels.DotU8S8x4(
                    ref Int8Kernels.Row(_headCodes, block[0], _head), ref Int8Kernels.Row(_headCodes, block[1], _head),
                    ref Int8Kernels.Row(_headCodes, block[2], _head), ref Int8Kernels.Row(_headCodes, block[3], _head),
                    ref qh, _head, raw);
                if (exact && _tail > 0)
                {
                    Int8Kernels.DotU8S8x4(
                        ref Int8Kernels.Row(_tailCodes, block[0], _tail), ref Int8Kernels.Row(_tailCodes, block[1], _tail),
                        ref Int8Kernels.Row(_tailCodes, block[2], _tail), ref Int8Kernels.Row(_tailCodes, block[3], _tail),
                        ref qt, _tail, rawTail);
                    for (var f = 0; f < 4; f++) raw[f] += rawTail[f] - tailCorrection;
                }
                for (var f = 0; f < filled; f++)
                {
                    var s = block[f];
                    var xNorm = _norm[s];
                    var dot = qq.Scale * _scale[s] * (raw[f] - headCorrection);
                    if (!exact)
                    {
                        if (prefix) dot *= extrapolate;
                        var approx = l2 ? 2 * dot - xNorm * xNorm : dot / (xNorm + 1e-30f);
                        if (candidates!.Count == shortlistCap && approx < candidates.MinScore) continue;
                        candidates.Offer(approx, s);
                        continue;
                    }
                    var xSq = xNorm * xNorm;
                    var bound = qq.DequantizedNorm * _resNorm[s] + qq.ResidualNorm * (_deqNorm[s] + _resNorm[s]);
                    // Relative slack covers float32 rounding of the rotation, the interval arithmetic and the exact scores.
                    bound = bound * (1 + 1e-5f) + 1e-5f * (qSq + xSq) + 1e-30f;
                    float l, h;
                    if (l2)
                    {
                        l = -MathF.Sqrt(MathF.Max(0, qSq + xSq - 2 * (dot - bound)));
                        h = -MathF.Sqrt(MathF.Max(0, qSq + xSq - 2 * (dot + bound)));
                    }
                    else if (xNorm > 0 && qNorm > 0)
                    {
                        var inv = invQ / xNorm;
                        l = (dot - bound) * inv;
                        h = (dot + bound) * inv;
                    }
                    else
                    {
                        l = h = 0;
                    }
                    // The k-th best lower bound so far is a floor for the k-th best exact score: an item whose upper
                    // bound is below it can never be in the answer.
                    if (h < floor) continue;
                    hi![used] = h;
                    slots![used++] = s;
                    lowK!.Offer(l, s);
                    if (lowK.Count == k) floor = lowK.MinScore;
                }
                filled = 0;
            }

            if (!exact)
            {
                var shortlist = candidates!.Sorted();
                if (prefix)
                {
                    // Complete the int8 score of the shortlist with the tail codes, keep the best k × RerankFactor.
                    var best = new TopK(rerank);
                    foreach (var (_, s) in shortlist)
                    {
                        var r = Int8Kernels.DotU8S8(ref Int8Kernels.Row(_headCodes, s, _head), ref qh, _head) - headCorrection
                                + Int8Kernels.DotU8S8(ref Int8Kernels.Row(_tailCodes, s, _tail), ref qt, _tail) - tailCorrection;
                        var xNorm = _norm[s];
                        var dot = qq.Scale * _scale[s] * r;
                        best.Offer(l2 ? 2 * dot - xNorm * xNorm : dot / (xNorm + 1e-30f), s);
                    }
                    shortlist = best.Sorted();
                }
                foreach (var (_, s) in shortlist) top.Offer(ExactScore(query, qNorm, s), s);
                return;
            }

            // Visit the survivors by decreasing upper bound; stop once none can enter the top-k.
            var c = 0;
            for (var i = 0; i < used; i++)
                if (hi![i] >= floor) { hi[c] = hi[i]; slots![c++] = slots[i]; }
            Array.Sort(hi!, slots!, 0, c);
            for (var i = c - 1; i >= 0; i--)
            {
                if (top.Count == k && hi![i] < top.MinScore) break;
                top.Offer(ExactScore(query, qNorm, slots![i]), slots[i]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(qHead);
            ArrayPool<byte>.Shared.Return(qTail);
            if (exact)
            {
                ArrayPool<float>.Shared.Return(hi!);
                ArrayPool<int>.Shared.Return(slots!);
            }
        }
    }

    public void Dispose()
    {
        lock (_writeGate)
        {
            _log.Dispose();
        }
        _rw.Dispose();
    }
}

/// <summary>Bounded min-heap keeping the k best (score, slot) pairs; ties broken toward the lower slot.</summary>
internal sealed class TopK(int k)
{
    private readonly float[] _score = new float[Math.Max(k, 1)];
    private readonly int[] _slot = new int[Math.Max(k, 1)];

    public int Count { get; private set; }
    public int Capacity => k;
    public float MinScore => _score[0];

    private static bool Worse(float a, int sa, float b, int sb) => a < b || (a == b && sa > sb);

    public void Offer(float score, int slot)
    {
        if (Count < k)
        {
            var i = Count++;
            _score[i] = score;
            _slot[i] = slot;
            while (i > 0)
            {
                var p = (i - 1) >> 1;
                if (!Worse(_score[i], _slot[i], _score[p], _slot[p])) break;
                Swap(i, p);
                i = p;
            }
            return;
        }
        if (!Worse(_score[0], _slot[0], score, slot)) return;
        _score[0] = score;
        _slot[0] = slot;
        var j = 0;
        while (true)
        {
            int l = 2 * j + 1, r = l + 1, w = j;
            if (l < Count && Worse(_score[l], _slot[l], _score[w], _slot[w])) w = l;
            if (r < Count && Worse(_score[r], _slot[r], _score[w], _slot[w])) w = r;
            if (w == j) break;
            Swap(j, w);
            j = w;
        }
    }

    private void Swap(int a, int b)
    {
        (_score[a], _score[b]) = (_score[b], _score[a]);
        (_slot[a], _slot[b]) = (_slot[b], _slot[a]);
    }

    /// <summary>Best first.</summary>
    public (float Score, int Slot)[] Sorted()
    {
        var r = new (float, int)[Count];
        for (var i = 0; i < Count; i++) r[i] = (_score[i], _slot[i]);
        Array.Sort(r, (a, b) => a.Item1 != b.Item1 ? b.Item1.CompareTo(a.Item1) : a.Item2.CompareTo(b.Item2));
        return r;
    }
}
