using Rift.Memory.Embedded;

namespace Rift.Memory.Tests;

public sealed class SearchTests
{
    /// <summary>Reference answer in double precision: filter, score every item, sort.</summary>
    private static List<(ulong Id, double Score)> Naive(IReadOnlyList<VectorItem> items, float[] q, PayloadFilter? f, DistanceMetric metric, int k)
    {
        var scored = new List<(ulong, double)>();
        foreach (var it in items)
        {
            if (f is not null && !f.Matches(it.Payload)) continue;
            double dot = 0, qq = 0, xx = 0, d2 = 0;
            for (var i = 0; i < q.Length; i++)
            {
                dot += (double)q[i] * it.Vector[i];
                qq += (double)q[i] * q[i];
                xx += (double)it.Vector[i] * it.Vector[i];
                d2 += ((double)q[i] - it.Vector[i]) * ((double)q[i] - it.Vector[i]);
            }
            scored.Add((it.Id, metric == DistanceMetric.Cosine ? (qq * xx > 0 ? dot / Math.Sqrt(qq * xx) : 0) : -Math.Sqrt(d2)));
        }
        return scored.OrderByDescending(s => s.Item2).ToList();
    }

    private static PayloadFilter? RandomFilter(Random r) => r.Next(6) switch
    {
        0 => null,
        1 => new PayloadFilter { Task = $"task{r.Next(4)}" }, // task3 does not exist
        2 => new PayloadFilter { Value = new Range<float>((float)r.NextDouble() * 0.5f, null) },
        3 => new PayloadFilter { Task = $"task{r.Next(3)}", Source = RecoverySource.Human, Value = new Range<float>(0.2f, 0.9f) },
        4 => new PayloadFilter { EpisodeRange = new Range<long>(5, 40), StepRange = new Range<int>(null, 6), ValueGain = new Range<float>(0.1f, null) },
        _ => new PayloadFilter { Episode = r.Next(60), TimeUnixMs = new Range<long>(1_700_000_000_000, null) },
    };

    [Theory]
    [InlineData(DistanceMetric.Cosine, SearchMode.Exact)]
    [InlineData(DistanceMetric.Cosine, SearchMode.BruteForce)]
    [InlineData(DistanceMetric.L2, SearchMode.Exact)]
    [InlineData(DistanceMetric.L2, SearchMode.BruteForce)]
    public void Search_RandomDataAndFilters_EqualsBruteForce(DistanceMetric metric, SearchMode mode)
    {
        const int dim = 100; // rotated length 128: 64 head + 64 tail code bytes
        using var dir = new TempDir();
        var options = dir.Options();
        options.PrefilterDims = 64;
        using var store = new EmbeddedVectorStore(options);
        store.CreateCollection("c", dim, metric);
        var r = new Random(42);
        var items = new List<VectorItem>();
        for (ulong id = 1; id <= 600; id++)
        {
            var v = TestData.RandomVector(r, dim);
            if (id % 50 == 0) Array.Clear(v); // zero vectors are legal
            if (id % 7 == 0) for (var i = 0; i < dim; i++) v[i] *= 100; // mixed scales
            items.Add(new VectorItem(id, v, TestData.PayloadFor(id) with { Value = (float)r.NextDouble() }));
        }
        store.Upsert("c", items);
        var deleted = items.Where(i => i.Id % 11 == 0).Select(i => i.Id).ToArray();
        store.Delete("c", deleted);
        items.RemoveAll(i => i.Id % 11 == 0);

        for (var trial = 0; trial < 60; trial++)
        {
            var q = trial % 4 == 0 ? items[r.Next(items.Count)].Vector : TestData.RandomVector(r, dim);
            var f = RandomFilter(r);
            var k = 1 + r.Next(25);
            var all = Naive(items, q, f, metric, k);
            var expected = all.Take(k).ToList();
            var got = store.Search("c", q, k, f, mode);
            Assert.Equal(expected.Count, got.Count);
            var tol = metric == DistanceMetric.Cosine ? 1e-5 : 1e-3;
            for (var i = 0; i < got.Count; i++)
            {
                Assert.True(Math.Abs(got[i].Score - expected[i].Score) <= tol * Math.Max(1, Math.Abs(expected[i].Score)),
                    $"trial {trial} rank {i}: score {got[i].Score} vs {expected[i].Score}");
                // Same ids unless two scores tie within rounding.
                if (got[i].Id != expected[i].Id)
                    Assert.Contains(all, e => e.Id == got[i].Id && Math.Abs(e.Score - expected[i].Score) <= tol);
                Assert.True(f is null || f.Matches(got[i].Payload));
                Assert.DoesNotContain(got[i].Id, deleted);
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void Search_ExactMode_ReturnsSameItemsAsBruteForceOnClusteredData(int prefilterDims)
    {
        const int dim = 256;
        using var dir = new TempDir();
        var options = dir.Options();
        options.PrefilterDims = prefilterDims;
        using var store = new EmbeddedVectorStore(options);
        store.CreateCollection("c", dim, DistanceMetric.Cosine);
        var data = ClusteredData(new Random(5), 3000, dim, clusters: 20);
        store.Upsert("c", data.Select((v, i) => new VectorItem((ulong)i, v, TestData.PayloadFor((ulong)i))).ToArray());
        var r = new Random(6);
        for (var t = 0; t < 30; t++)
        {
            var q = Perturb(data[r.Next(data.Length)], r, 0.3f);
            var exact = store.Search("c", q, 10, mode: SearchMode.Exact).Select(h => h.Id);
            var brute = store.Search("c", q, 10, mode: SearchMode.BruteForce).Select(h => h.Id);
            Assert.Equal(brute, exact);
        }
    }

    [Theory]
    [InlineData(0)]   // full int8 scan
    [InlineData(64)]  // 64-byte head scan, then 192-byte tail for the shortlist
    public void Search_QuantizedMode_HighRecallOnClusteredData(int prefilterDims)
    {
        const int dim = 256;
        using var dir = new TempDir();
        var options = dir.Options();
        options.PrefilterDims = prefilterDims;
        options.PrefilterCandidates = 300;
        using var store = new EmbeddedVectorStore(options);
        store.CreateCollection("c", dim, DistanceMetric.Cosine);
        var data = ClusteredData(new Random(7), 5000, dim, clusters: 25);
        store.Upsert("c", data.Select((v, i) => new VectorItem((ulong)i, v, TestData.PayloadFor((ulong)i))).ToArray());
        var r = new Random(8);
        double found = 0;
        const int queries = 40;
        for (var t = 0; t < queries; t++)
        {
            var q = Perturb(data[r.Next(data.Length)], r, 0.3f);
            var exact = store.Search("c", q, 10, mode: SearchMode.BruteForce).Select(h => h.Id).ToHashSet();
            found += store.Search("c", q, 10, mode: SearchMode.Quantized).Count(h => exact.Contains(h.Id));
        }
        Assert.True(found / (10.0 * queries) >= 0.95, $"recall@10 {found / (10.0 * queries):F3}");
    }

    /// <summary>Clusters with low-rank structure: centre + 8-dim latent subspace + small isotropic noise.</summary>
    internal static float[][] ClusteredData(Random r, int n, int dim, int clusters)
    {
        var centres = Enumerable.Range(0, clusters).Select(_ => TestData.RandomVector(r, dim)).ToArray();
        var bases = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, 8).Select(_ => TestData.RandomVector(r, dim)).ToArray()).ToArray();
        var data = new float[n][];
        for (var i = 0; i < n; i++)
        {
            var c = r.Next(clusters);
            var v = (float[])centres[c].Clone();
            foreach (var b in bases[c])
            {
                var z = TestData.Gaussian(r) * 0.5f;
                for (var j = 0; j < dim; j++) v[j] += z * b[j];
            }
            for (var j = 0; j < dim; j++) v[j] += 0.1f * TestData.Gaussian(r);
            data[i] = v;
        }
        return data;
    }

    internal static float[] Perturb(float[] v, Random r, float sigma) => v.Select(x => x + sigma * TestData.Gaussian(r)).ToArray();

    [Fact]
    public void Search_EmptyCollectionOrNoMatch_ReturnsNothing()
    {
        using var dir = new TempDir();
        using var store = new EmbeddedVectorStore(dir.Options());
        store.CreateCollection("c", 8, DistanceMetric.Cosine);
        Assert.Empty(store.Search("c", new float[8], 5));
        store.Upsert("c", TestData.ItemFor(1, 8));
        Assert.Empty(store.Search("c", TestData.VectorFor(1, 8), 5, new PayloadFilter { Task = "missing" }));
        Assert.Single(store.Search("c", TestData.VectorFor(1, 8), 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Search("c", new float[8], 0));
    }
}
