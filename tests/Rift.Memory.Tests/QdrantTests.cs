using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Rift.Memory.Qdrant;

namespace Rift.Memory.Tests;

/// <summary>A test that needs a Qdrant server: skipped (reported as skipped, never passed) unless QDRANT_URL is set.</summary>
public sealed class QdrantFactAttribute : FactAttribute
{
    public QdrantFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("QDRANT_URL")))
            Skip = "QDRANT_URL is not set (no Qdrant server to test against)";
    }
}

public sealed class QdrantTests
{
    private const int Dim = 32;

    private static QdrantVectorStore Store() => new(new VectorStoreOptions { Backend = VectorStoreBackend.Qdrant, QdrantUrl = Environment.GetEnvironmentVariable("QDRANT_URL")! });

    private static string FreshCollection() => "rift-test-" + Guid.NewGuid().ToString("N")[..12];

    [QdrantFact]
    public void Qdrant_CreateUpsertFilteredSearch_MatchesEmbeddedStore()
    {
        using var qdrant = Store();
        using var dir = new TempDir();
        using var embedded = new Embedded.EmbeddedVectorStore(dir.Options());
        var name = FreshCollection();
        qdrant.CreateCollection(name, Dim, DistanceMetric.Cosine);
        embedded.CreateCollection(name, Dim, DistanceMetric.Cosine);
        var items = Enumerable.Range(1, 200).Select(i => TestData.ItemFor((ulong)i, Dim)).ToArray();
        qdrant.Upsert(name, items);
        embedded.Upsert(name, items);
        Assert.Equal(200, qdrant.GetCollection(name)!.Count);
        var r = new Random(1);
        foreach (var filter in new PayloadFilter?[] { null, new() { Task = "task1" }, new() { Task = "task2", Value = new Range<float>(0.3f, 0.8f), Source = RecoverySource.Human } })
        {
            var q = TestData.RandomVector(r, Dim);
            var a = qdrant.Search(name, q, 5, filter, SearchMode.Exact);
            var b = embedded.Search(name, q, 5, filter, SearchMode.BruteForce);
            Assert.Equal(b.Select(h => h.Id), a.Select(h => h.Id));
            for (var i = 0; i < a.Count; i++)
            {
                Assert.Equal(b[i].Score, a[i].Score, 1e-4f);
                Assert.Equal(b[i].Payload, a[i].Payload);
            }
        }
        Assert.Equal(1, qdrant.Delete(name, [1UL, 999_999UL]));
        Assert.Null(qdrant.Get(name, 1));
        Assert.Equal(TestData.PayloadFor(2), qdrant.Get(name, 2)!.Payload);
        Assert.Equal(199, qdrant.List(name).Count);
    }

    [QdrantFact]
    public void Qdrant_BadInput_ClearErrors()
    {
        using var qdrant = Store();
        var name = FreshCollection();
        qdrant.CreateCollection(name, Dim, DistanceMetric.L2);
        Assert.Throws<ArgumentException>(() => qdrant.Upsert(name, new VectorItem(1, new float[Dim + 1], TestData.PayloadFor(1))));
        Assert.Throws<CollectionNotFoundException>(() => qdrant.Search(FreshCollection(), new float[Dim], 1));
        Assert.Throws<InvalidOperationException>(() => qdrant.CreateCollection(name, Dim, DistanceMetric.Cosine));
        Assert.Equal(0, qdrant.GetCollection(name)!.Count);
    }

    /// <summary>Records requests and answers like Qdrant would for an empty search.</summary>
    private sealed class RecordingHandler : HttpMessageHandler
    {
        public List<(HttpMethod Method, string Path, string Body)> Requests { get; } = [];

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content?.ReadAsStringAsync(cancellationToken).GetAwaiter().GetResult() ?? "";
            Requests.Add((request.Method, request.RequestUri!.PathAndQuery, body));
            var path = request.RequestUri!.AbsolutePath;
            var result = path.EndsWith("/points/search", StringComparison.Ordinal) ? "[]"
                : path.EndsWith("/points/count", StringComparison.Ordinal) ? "{\"count\":0}"
                : path == "/collections/c" && request.Method == HttpMethod.Get ? "{\"config\":{\"params\":{\"vectors\":{\"size\":2,\"distance\":\"Euclid\"}}}}"
                : "true";
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent($"{{\"result\":{result}}}", Encoding.UTF8, "application/json") };
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Send(request, cancellationToken));
    }

    [Fact]
    public void Search_WithFilter_SendsQdrantFilterJson()
    {
        var handler = new RecordingHandler();
        using var store = new QdrantVectorStore(new VectorStoreOptions { QdrantUrl = "http://qdrant.invalid:6333" }, handler);
        var filter = new PayloadFilter { Task = "push", Source = RecoverySource.Human, Value = new Range<float>(0.75f, null), StepRange = new Range<int>(2, 9) };
        Assert.Empty(store.Search("c", [1f, 2f], 4, filter, SearchMode.Exact));
        var (method, path, body) = handler.Requests[^1];
        Assert.Equal(HttpMethod.Post, method);
        Assert.Equal("/collections/c/points/search", path);
        var json = JsonNode.Parse(body)!;
        Assert.Equal(4, json["limit"]!.GetValue<int>());
        Assert.True(json["params"]!["exact"]!.GetValue<bool>());
        var must = json["filter"]!["must"]!.AsArray().Select(c => c!.ToJsonString()).ToArray();
        Assert.Equal(
            [
                "{\"key\":\"task\",\"match\":{\"value\":\"push\"}}",
                "{\"key\":\"source\",\"match\":{\"value\":\"Human\"}}",
                "{\"key\":\"value\",\"range\":{\"gte\":0.75}}",
                "{\"key\":\"step\",\"range\":{\"gte\":2,\"lte\":9}}",
            ], must);
        Assert.Throws<ArgumentException>(() => store.Search("c", [1f, 2f, 3f], 4));
    }
}
