using Rift.Memory.Embedded;

namespace Rift.Memory.Tests;

public sealed class EmbeddedVectorStoreTests
{
    private const int Dim = 16;

    private static string LastSegment(string dir) => Directory.GetFiles(Path.Combine(dir, "c"), "seg-*.log").Order(StringComparer.Ordinal).Last();

    private static void Fill(TempDir dir, int n, FsyncPolicy fsync = FsyncPolicy.None)
    {
        using var store = new EmbeddedVectorStore(dir.Options(fsync));
        store.CreateCollection("c", Dim, DistanceMetric.Cosine);
        for (ulong id = 1; id <= (ulong)n; id++) store.Upsert("c", TestData.ItemFor(id, Dim));
    }

    private static void AssertItems(EmbeddedVectorStore store, IEnumerable<ulong> ids)
    {
        var expected = ids.ToHashSet();
        var got = store.List("c", withVectors: true);
        Assert.Equal(expected.Order(), got.Select(i => i.Id).Order());
        foreach (var item in got)
        {
            Assert.Equal(TestData.VectorFor(item.Id, Dim), item.Vector);
            Assert.Equal(TestData.PayloadFor(item.Id), item.Payload);
        }
    }

    [Fact]
    public void Reopen_AfterWritesAndDeletes_RestoresSameItems()
    {
        using var dir = new TempDir();
        using (var store = new EmbeddedVectorStore(dir.Options(FsyncPolicy.EveryWrite)))
        {
            store.CreateCollection("c", Dim, DistanceMetric.Cosine);
            store.Upsert("c", Enumerable.Range(1, 50).Select(i => TestData.ItemFor((ulong)i, Dim)).ToArray());
            Assert.Equal(10, store.Delete("c", Enumerable.Range(1, 10).Select(i => (ulong)i).ToArray()));
            Assert.False(store.Delete("c", 999));
            store.Upsert("c", TestData.ItemFor(20, Dim) with { Payload = TestData.PayloadFor(20) with { Value = 0.5f } });
        }
        using (var store = new EmbeddedVectorStore(dir.Options()))
        {
            Assert.Equal(new CollectionInfo("c", Dim, DistanceMetric.Cosine, 40), store.GetCollection("c"));
            Assert.Equal(0.5f, store.Get("c", 20)!.Payload.Value);
            Assert.Null(store.Get("c", 5));
            Assert.Equal(40, store.List("c").Count);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(40)]
    public void Open_TruncatedTail_DropsOnlyTheTornRecord(int cut)
    {
        using var dir = new TempDir();
        Fill(dir, 20);
        var seg = LastSegment(dir.Path);
        using (var fs = new FileStream(seg, FileMode.Open)) fs.SetLength(fs.Length - cut);
        using (var store = new EmbeddedVectorStore(dir.Options()))
        {
            AssertItems(store, Enumerable.Range(1, 19).Select(i => (ulong)i));
            Assert.True(store.Storage("c").TruncatedBytes > 0);
            store.Upsert("c", TestData.ItemFor(100, Dim));
        }
        using (var store = new EmbeddedVectorStore(dir.Options()))
            AssertItems(store, Enumerable.Range(1, 19).Select(i => (ulong)i).Append(100UL));
    }

    [Theory]
    [InlineData(0)]   // length prefix
    [InlineData(5)]   // checksum
    [InlineData(30)]  // body
    [InlineData(-1)]  // last byte
    public void Open_CorruptLastRecord_DropsIt(int position)
    {
        using var dir = new TempDir();
        Fill(dir, 20);
        var seg = LastSegment(dir.Path);
        var bytes = File.ReadAllBytes(seg);
        var recordBytes = 8 + 35 + "task2".Length + Dim * 4; // item 20 is task2
        var at = position >= 0 ? bytes.Length - recordBytes + position : bytes.Length - 1;
        bytes[at] ^= 0x5A;
        File.WriteAllBytes(seg, bytes);
        using var store = new EmbeddedVectorStore(dir.Options());
        AssertItems(store, Enumerable.Range(1, 19).Select(i => (ulong)i));
    }

    [Fact]
    public void Open_GarbageAppended_DropsGarbageKeepsItems()
    {
        using var dir = new TempDir();
        Fill(dir, 10);
        var garbage = new byte[333];
        new Random(3).NextBytes(garbage);
        using (var fs = new FileStream(LastSegment(dir.Path), FileMode.Append)) fs.Write(garbage);
        using var store = new EmbeddedVectorStore(dir.Options());
        AssertItems(store, Enumerable.Range(1, 10).Select(i => (ulong)i));
    }

    [Fact]
    public void Open_CorruptRecordFollowedByValidOnes_ThrowsInsteadOfDroppingData()
    {
        using var dir = new TempDir();
        Fill(dir, 20);
        var seg = LastSegment(dir.Path);
        var bytes = File.ReadAllBytes(seg);
        bytes[24 + 40] ^= 0xFF; // inside the first record
        File.WriteAllBytes(seg, bytes);
        var e = Assert.Throws<InvalidDataException>(() =>
        {
            using var store = new EmbeddedVectorStore(dir.Options());
            store.GetCollection("c");
        });
        Assert.Contains("not a torn write", e.Message);
        Assert.Equal(bytes.Length, new FileInfo(seg).Length); // nothing was cut
    }

    [Fact]
    public void Compact_AfterDeletes_ShrinksLogAndKeepsItems()
    {
        using var dir = new TempDir();
        var options = dir.Options();
        options.AutoCompactDeadFraction = 0;
        options.SegmentMaxBytes = 1 << 16;
        using (var store = new EmbeddedVectorStore(options))
        {
            store.CreateCollection("c", Dim, DistanceMetric.Cosine);
            for (ulong id = 1; id <= 2000; id++) store.Upsert("c", TestData.ItemFor(id, Dim));
            store.Delete("c", Enumerable.Range(1, 1500).Select(i => (ulong)i).ToArray());
            var before = store.Storage("c");
            Assert.True(before.Segments > 1);
            store.Compact("c");
            var after = store.Storage("c");
            Assert.Equal(1, after.Segments);
            Assert.True(after.LogBytes < before.LogBytes / 3, $"{after.LogBytes} vs {before.LogBytes}");
            store.Upsert("c", TestData.ItemFor(5000, Dim));
            AssertItems(store, Enumerable.Range(1501, 500).Select(i => (ulong)i).Append(5000UL));
        }
        using (var store = new EmbeddedVectorStore(options))
            AssertItems(store, Enumerable.Range(1501, 500).Select(i => (ulong)i).Append(5000UL));
    }

    [Fact]
    public void Upsert_ManyDeletes_AutoCompacts()
    {
        using var dir = new TempDir();
        var options = dir.Options();
        options.AutoCompactDeadFraction = 0.5;
        using var store = new EmbeddedVectorStore(options);
        store.CreateCollection("c", 256, DistanceMetric.L2);
        for (var round = 0; round < 20; round++)
            store.Upsert("c", Enumerable.Range(0, 100).Select(i => TestData.ItemFor((ulong)i, 256)).ToArray());
        var (bytes, _, _) = store.Storage("c");
        const int batch = 100 * (8 + 35 + 5 + 256 * 4);
        // Without compaction the log would hold all 20 batches; auto-compaction starts from 1 MiB of log.
        Assert.True(bytes <= (1 << 20) + batch, $"log is {bytes} bytes for 100 live items ({20 * batch} written)");
        Assert.Equal(100, store.GetCollection("c")!.Count);
    }

    [Fact]
    public void Errors_BadInput_ClearMessageAndNothingChanges()
    {
        using var dir = new TempDir();
        Fill(dir, 5);
        using var store = new EmbeddedVectorStore(dir.Options());
        var seg = LastSegment(dir.Path);
        var length = new FileInfo(seg).Length;

        var e1 = Assert.Throws<ArgumentException>(() => store.Upsert("c", new VectorItem(100, new float[Dim + 1], TestData.PayloadFor(100))));
        Assert.Contains($"dimension {Dim + 1}", e1.Message);
        Assert.Contains($"dimension {Dim}", e1.Message);

        var nan = TestData.VectorFor(101, Dim);
        nan[3] = float.NaN;
        // A batch with one bad item writes none of them.
        var e2 = Assert.Throws<ArgumentException>(() => store.Upsert("c", [TestData.ItemFor(102, Dim), new VectorItem(101, nan, TestData.PayloadFor(101))]));
        Assert.Contains("component 3 is NaN", e2.Message);
        var inf = TestData.VectorFor(103, Dim);
        inf[0] = float.PositiveInfinity;
        Assert.Throws<ArgumentException>(() => store.Upsert("c", new VectorItem(103, inf, TestData.PayloadFor(103))));

        var e3 = Assert.Throws<CollectionNotFoundException>(() => store.Upsert("nope", TestData.ItemFor(104, Dim)));
        Assert.Contains("'nope' does not exist", e3.Message);
        Assert.Throws<CollectionNotFoundException>(() => store.Search("nope", new float[Dim], 3));
        Assert.Throws<ArgumentException>(() => store.Search("c", new float[Dim - 1], 3));
        Assert.Throws<ArgumentException>(() => store.Search("c", nan, 3));
        Assert.Throws<ArgumentException>(() => store.CreateCollection("../evil", Dim, DistanceMetric.Cosine));
        Assert.Throws<InvalidOperationException>(() => store.CreateCollection("c", Dim * 2, DistanceMetric.Cosine));

        Assert.Equal(5, store.GetCollection("c")!.Count);
        Assert.Null(store.Get("c", 102));
        Assert.Null(store.GetCollection("nope"));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "nope")));
        Assert.Equal(length, new FileInfo(seg).Length);
    }

    [Fact]
    public void Open_SecondStoreOnSameCollection_Throws()
    {
        using var dir = new TempDir();
        using var a = new EmbeddedVectorStore(dir.Options());
        a.CreateCollection("c", Dim, DistanceMetric.Cosine);
        using var b = new EmbeddedVectorStore(dir.Options());
        var e = Assert.Throws<IOException>(() => b.GetCollection("c"));
        Assert.Contains("open in another process", e.Message);
    }

    [Fact]
    public async Task Search_WhileWriting_ReadersSeeConsistentResults()
    {
        using var dir = new TempDir();
        using var store = new EmbeddedVectorStore(dir.Options(FsyncPolicy.Batched));
        store.CreateCollection("c", Dim, DistanceMetric.Cosine);
        store.Upsert("c", Enumerable.Range(1, 100).Select(i => TestData.ItemFor((ulong)i, Dim)).ToArray());
        using var stop = new CancellationTokenSource();
        var errors = 0;
        var readers = Enumerable.Range(0, 3).Select(t => Task.Run(() =>
        {
            var r = new Random(t);
            while (!stop.IsCancellationRequested)
            {
                var id = (ulong)r.Next(1, 101);
                var hits = store.Search("c", TestData.VectorFor(id, Dim), 1, mode: SearchMode.Exact);
                // Items 1..100 are never deleted: each must find itself, with its own vector.
                if (hits.Count != 1 || hits[0].Id != id || !hits[0].Vector.SequenceEqual(TestData.VectorFor(id, Dim))) Interlocked.Increment(ref errors);
            }
        })).ToArray();
        for (ulong id = 1000; id < 3000; id++)
        {
            store.Upsert("c", TestData.ItemFor(id, Dim));
            if (id % 3 == 0) store.Delete("c", id - 1);
        }
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.Equal(0, errors);
    }
}
