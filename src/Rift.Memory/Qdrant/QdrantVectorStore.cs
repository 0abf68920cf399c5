using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rift.Memory.Qdrant;

/// <summary>
/// <see cref="IVectorStore"/> over Qdrant's REST API (for fleets sharing one memory). Payload keys: task, value,
/// value_gain, source ("Agent"/"Human"), episode, step, time_unix_ms. Writes use <c>wait=true</c>, so a returned call
/// means Qdrant applied it. Differences from the embedded store: Qdrant normalises Cosine vectors on insert (stored
/// and returned vectors have unit length); search modes Exact and BruteForce ask Qdrant for an exact search, the others
/// use its index.
/// </summary>
public sealed class QdrantVectorStore : IVectorStore
{
    private readonly HttpClient _http;
    private readonly Dictionary<string, (int Dim, DistanceMetric Metric)> _shapes = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public QdrantVectorStore(VectorStoreOptions options, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = new Uri(options.QdrantUrl.TrimEnd('/') + "/");
        _http.Timeout = TimeSpan.FromMilliseconds(options.QdrantTimeoutMs);
        if (!string.IsNullOrEmpty(options.QdrantApiKey)) _http.DefaultRequestHeaders.Add("api-key", options.QdrantApiKey);
    }

    // ---- HTTP -----------------------------------------------------------------------------------------------------

    private JsonNode? Call(HttpMethod method, string path, JsonNode? body, bool allowNotFound = false)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = _http.Send(request);
        using var reader = new StreamReader(response.Content.ReadAsStream());
        var text = reader.ReadToEnd();
        if (allowNotFound && response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"Qdrant {method} {path} failed with {(int)response.StatusCode} {response.StatusCode}: {Truncate(text)}", null, response.StatusCode);
        return JsonNode.Parse(text)?["result"];
    }

    private static string Truncate(string s) => s.Length <= 500 ? s : s[..500] + "…";

    private static string Col(string name)
    {
        VectorStore.CheckName(name);
        return "collections/" + Uri.EscapeDataString(name);
    }

    // ---- collections ----------------------------------------------------------------------------------------------

    public CollectionInfo CreateCollection(string name, int dimension, DistanceMetric metric)
    {
        if (dimension <= 0 || dimension > 65_536) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be in [1, 65536]");
        var existing = GetCollection(name);
        if (existing is not null)
        {
            if (existing.Dimension != dimension || existing.Metric != metric)
                throw new InvalidOperationException($"vector collection '{name}' exists with dimension {existing.Dimension} / {existing.Metric}, not {dimension} / {metric}");
            return existing;
        }
        Call(HttpMethod.Put, Col(name), new JsonObject
        {
            ["vectors"] = new JsonObject { ["size"] = dimension, ["distance"] = metric == DistanceMetric.Cosine ? "Cosine" : "Euclid" },
        });
        foreach (var (field, schema) in new[] { ("task", "keyword"), ("value", "float") })
            Call(HttpMethod.Put, Col(name) + "/index?wait=true", new JsonObject { ["field_name"] = field, ["field_schema"] = schema });
        lock (_gate) _shapes[name] = (dimension, metric);
        return new CollectionInfo(name, dimension, metric, 0);
    }

    public CollectionInfo? GetCollection(string name)
    {
        var result = Call(HttpMethod.Get, Col(name), null, allowNotFound: true);
        if (result is null) return null;
        var vectors = result["config"]?["params"]?["vectors"] ?? throw new InvalidDataException($"Qdrant collection '{name}' has no single unnamed vector");
        var dim = vectors["size"]!.GetValue<int>();
        var metric = vectors["distance"]!.GetValue<string>() switch
        {
            "Cosine" => DistanceMetric.Cosine,
            "Euclid" => DistanceMetric.L2,
            var other => throw new InvalidDataException($"Qdrant collection '{name}' uses distance {other}; Rift supports Cosine and Euclid"),
        };
        lock (_gate) _shapes[name] = (dim, metric);
        var count = Call(HttpMethod.Post, Col(name) + "/points/count", new JsonObject { ["exact"] = true })?["count"]?.GetValue<long>() ?? 0;
        return new CollectionInfo(name, dim, metric, count);
    }

    private (int Dim, DistanceMetric Metric) Shape(string name)
    {
        lock (_gate)
            if (_shapes.TryGetValue(name, out var s)) return s;
        var info = GetCollection(name) ?? throw new CollectionNotFoundException(name);
        return (info.Dimension, info.Metric);
    }

    // ---- points ---------------------------------------------------------------------------------------------------

    public void Upsert(string collection, IReadOnlyList<VectorItem> items)
    {
        var (dim, _) = Shape(collection);
        foreach (var item in items)
        {
            VectorStore.CheckVector(collection, item.Vector, dim, $"vector of item {item.Id}");
            if (!float.IsFinite(item.Payload.Value) || !float.IsFinite(item.Payload.ValueGain))
                throw new ArgumentException($"payload of item {item.Id} has a non-finite value or value gain");
        }
        if (items.Count == 0) return;
        var points = new JsonArray();
        foreach (var item in items)
            points.Add(new JsonObject { ["id"] = item.Id, ["vector"] = ToJson(item.Vector), ["payload"] = ToJson(item.Payload) });
        Call(HttpMethod.Put, Col(collection) + "/points?wait=true", new JsonObject { ["points"] = points });
    }

    public int Delete(string collection, IReadOnlyList<ulong> ids)
    {
        Shape(collection);
        if (ids.Count == 0) return 0;
        var found = Call(HttpMethod.Post, Col(collection) + "/points", new JsonObject { ["ids"] = IdArray(ids), ["with_payload"] = false, ["with_vector"] = false });
        var present = found?.AsArray().Count ?? 0;
        if (present == 0) return 0;
        Call(HttpMethod.Post, Col(collection) + "/points/delete?wait=true", new JsonObject { ["points"] = IdArray(ids) });
        return present;
    }

    public VectorItem? Get(string collection, ulong id)
    {
        Shape(collection);
        var p = Call(HttpMethod.Get, Col(collection) + "/points/" + id.ToString(System.Globalization.CultureInfo.InvariantCulture), null, allowNotFound: true);
        return p is null ? null : ItemFrom(p, true);
    }

    public IReadOnlyList<VectorItem> List(string collection, PayloadFilter? filter = null, bool withVectors = false)
    {
        Shape(collection);
        var result = new List<VectorItem>();
        JsonNode? offset = null;
        do
        {
            var body = new JsonObject { ["limit"] = 1000, ["with_payload"] = true, ["with_vector"] = withVectors };
            if (filter is not null) body["filter"] = ToJson(filter);
            if (offset is not null) body["offset"] = offset.DeepClone();
            var page = Call(HttpMethod.Post, Col(collection) + "/points/scroll", body);
            foreach (var p in page?["points"]?.AsArray() ?? []) result.Add(ItemFrom(p!, withVectors));
            offset = page?["next_page_offset"];
        } while (offset is not null);
        return result;
    }

    public IReadOnlyList<SearchHit> Search(string collection, ReadOnlySpan<float> query, int k, PayloadFilter? filter = null, SearchMode mode = SearchMode.Auto)
    {
        var (dim, metric) = Shape(collection);
        VectorStore.CheckVector(collection, query, dim, "query vector");
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be positive");
        var body = new JsonObject
        {
            ["vector"] = ToJson(query),
            ["limit"] = k,
            ["with_payload"] = true,
            ["with_vector"] = true,
        };
        if (filter is not null) body["filter"] = ToJson(filter);
        if (mode is SearchMode.Exact or SearchMode.BruteForce) body["params"] = new JsonObject { ["exact"] = true };
        var result = Call(HttpMethod.Post, Col(collection) + "/points/search", body)?.AsArray() ?? [];
        var hits = new List<SearchHit>(result.Count);
        foreach (var r in result)
        {
            var item = ItemFrom(r!, true);
            var score = r!["score"]!.GetValue<float>();
            hits.Add(new SearchHit(item.Id, metric == DistanceMetric.L2 ? -score : score, item.Payload, item.Vector));
        }
        return hits;
    }

    public void Flush()
    {
    }

    public void Dispose() => _http.Dispose();

    // ---- JSON mapping ---------------------------------------------------------------------------------------------

    private static JsonArray IdArray(IReadOnlyList<ulong> ids)
    {
        var a = new JsonArray();
        foreach (var id in ids) a.Add(id);
        return a;
    }

    private static JsonArray ToJson(ReadOnlySpan<float> v)
    {
        var a = new JsonArray();
        foreach (var x in v) a.Add(x);
        return a;
    }

    private static JsonObject ToJson(in MemoryPayload p) => new()
    {
        ["task"] = p.Task,
        ["value"] = p.Value,
        ["value_gain"] = p.ValueGain,
        ["source"] = p.Source.ToString(),
        ["episode"] = p.Episode,
        ["step"] = p.Step,
        ["time_unix_ms"] = p.TimeUnixMs,
    };

    private static VectorItem ItemFrom(JsonNode p, bool withVector)
    {
        var id = p["id"]!.GetValue<ulong>();
        var pl = p["payload"] ?? throw new InvalidDataException($"Qdrant point {id} has no payload");
        var payload = new MemoryPayload(
            pl["task"]?.GetValue<string>() ?? "",
            pl["value"]?.GetValue<float>() ?? 0,
            pl["value_gain"]?.GetValue<float>() ?? 0,
            Enum.TryParse<RecoverySource>(pl["source"]?.GetValue<string>(), out var s) ? s : RecoverySource.Agent,
            pl["episode"]?.GetValue<long>() ?? 0,
            pl["step"]?.GetValue<int>() ?? 0,
            pl["time_unix_ms"]?.GetValue<long>() ?? 0);
        var vector = withVector && p["vector"] is JsonArray va ? va.Select(x => x!.GetValue<float>()).ToArray() : [];
        return new VectorItem(id, vector, payload);
    }

    /// <summary>A <see cref="PayloadFilter"/> as a Qdrant filter (all conditions under "must").</summary>
    public static JsonObject ToJson(PayloadFilter f)
    {
        var must = new JsonArray();
        void Match(string key, JsonNode value) => must.Add(new JsonObject { ["key"] = key, ["match"] = new JsonObject { ["value"] = value } });
        void Range(string key, double? min, double? max)
        {
            var r = new JsonObject();
            if (min is { } lo) r["gte"] = lo;
            if (max is { } hi) r["lte"] = hi;
            must.Add(new JsonObject { ["key"] = key, ["range"] = r });
        }
        if (f.Task is not null) Match("task", f.Task);
        if (f.Source is { } s) Match("source", s.ToString());
        if (f.Episode is { } e) Match("episode", e);
        if (f.Step is { } st) Match("step", st);
        if (f.Value is { } v) Range("value", v.Min, v.Max);
        if (f.ValueGain is { } g) Range("value_gain", g.Min, g.Max);
        if (f.EpisodeRange is { } er) Range("episode", er.Min, er.Max);
        if (f.StepRange is { } sr) Range("step", sr.Min, sr.Max);
        if (f.TimeUnixMs is { } t) Range("time_unix_ms", t.Min, t.Max);
        return new JsonObject { ["must"] = must };
    }
}
