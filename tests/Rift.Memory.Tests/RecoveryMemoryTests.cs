using Rift.Memory.Embedded;

namespace Rift.Memory.Tests;

internal sealed class ManualClock(long startUnixMs) : TimeProvider
{
    public long Now = startUnixMs;

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(Now);
}

public sealed class RecoveryMemoryTests
{
    private const int Dim = 32;

    private static RecoverySegment Segment(float[] z, string task = "push", float start = 0.3f, float target = 0.9f, int span = 20, long episode = 1) =>
        new(task, z, start, target, span, RecoverySource.Agent, episode, 5);

    [Theory]
    [InlineData(20, 0.3f, 0.9f, true)]
    [InlineData(32, 0.35f, 0.75f, true)]   // every bound inclusive
    [InlineData(33, 0.3f, 0.9f, false)]    // too long
    [InlineData(0, 0.3f, 0.9f, false)]     // no span
    [InlineData(20, 0.6f, 0.9f, false)]    // gain 0.3 < 0.4
    [InlineData(10, 0.2f, 0.7f, false)]    // target 0.7 < 0.75
    public void TryInsert_ReferenceRule_AcceptsOnlyShortHighGainHighValueSegments(int span, float start, float target, bool accepted)
    {
        using var dir = new TempDir();
        using var memory = RecoveryMemory.Open(dir.Options(), new RecoveryMemoryOptions(), Dim);
        var id = memory.TryInsert(Segment(TestData.VectorFor(1, Dim), start: start, target: target, span: span));
        Assert.Equal(accepted, id.HasValue);
        Assert.Equal(accepted ? 1 : 0, memory.Count);
    }

    [Fact]
    public void Query_SameTaskHighValue_ReturnsNearestQualifyingTarget()
    {
        using var dir = new TempDir();
        var options = new RecoveryMemoryOptions { ValueWeight = 0 };
        using var memory = RecoveryMemory.Open(dir.Options(), options, Dim);
        var r = new Random(1);
        var ids = new List<ulong>();
        var vectors = new List<float[]>();
        for (var i = 0; i < 30; i++)
        {
            var z = TestData.RandomVector(r, Dim);
            vectors.Add(z);
            ids.Add(memory.TryInsert(Segment(z, episode: i))!.Value);
        }
        var other = memory.TryInsert(Segment(TestData.RandomVector(r, Dim), task: "peg-insert"))!.Value;

        for (var i = 0; i < 30; i += 7)
        {
            var q = SearchTests.Perturb(vectors[i], r, 0.05f);
            var t = memory.Query(q, "push")!;
            Assert.Equal(ids[i], t.Id);
            Assert.Equal(vectors[i], t.Embedding);
            Assert.Equal(0.9f, t.Value);
            Assert.Equal(i, t.Episode);
        }
        // Other task: only its own item qualifies, however far.
        Assert.Equal(other, memory.Query(vectors[0], "peg-insert")!.Id);
        Assert.Null(memory.Query(vectors[0], "pick-place"));
    }

    [Fact]
    public void Query_ValueWeight_PrefersHigherValueAmongNearCandidates()
    {
        using var dir = new TempDir();
        using var memory = RecoveryMemory.Open(dir.Options(), new RecoveryMemoryOptions { ValueWeight = 1.0f, SelectionMinValue = 0.8f }, Dim);
        var r = new Random(2);
        var z = TestData.RandomVector(r, Dim);
        var near = memory.TryInsert(Segment(z, target: 0.8f))!.Value;
        var slightlyFarther = memory.TryInsert(Segment(SearchTests.Perturb(z, r, 0.1f), target: 1.0f))!.Value;
        var belowSelection = memory.TryInsert(Segment(z, target: 0.79f, start: 0.1f))!.Value;
        var t = memory.Query(z, "push")!;
        Assert.Equal(slightlyFarther, t.Id);
        Assert.NotEqual(near, t.Id);
        Assert.NotEqual(belowSelection, t.Id);

        using var dir2 = new TempDir();
        using var plain = RecoveryMemory.Open(dir2.Options(), new RecoveryMemoryOptions { ValueWeight = 0f }, Dim);
        var nearest = plain.TryInsert(Segment(z, target: 0.8f))!.Value;
        plain.TryInsert(Segment(SearchTests.Perturb(z, r, 0.1f), target: 1.0f));
        Assert.Equal(nearest, plain.Query(z, "push")!.Id);
    }

    [Fact]
    public void TryInsert_OverCapacity_EvictsLowestValueThenOldest()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(1_000_000);
        using var store = new EmbeddedVectorStore(dir.Options());
        using var memory = new RecoveryMemory(store, new RecoveryMemoryOptions { Capacity = 3, SelectionMinValue = 0 }, Dim, clock);
        var r = new Random(3);
        ulong Insert(float value)
        {
            clock.Now += 10;
            return memory.TryInsert(Segment(TestData.RandomVector(r, Dim), start: 0, target: value))!.Value;
        }
        var a = Insert(0.8f);
        var b = Insert(0.8f);
        var c = Insert(0.9f);
        var d = Insert(0.85f);        // evicts a: lowest value (0.8), oldest of the two
        Assert.Equal(3, memory.Count);
        var e = Insert(0.95f);        // evicts b
        // A newcomer worse than every stored item would be evicted at once: refused.
        clock.Now += 10;
        Assert.Null(memory.TryInsert(Segment(TestData.RandomVector(r, Dim), start: 0, target: 0.84f)));
        var kept = store.List("recovery").Select(i => i.Id).ToArray();
        Assert.Equal(new[] { c, d, e }.Order(), kept.Order());
        Assert.DoesNotContain(a, kept);
        Assert.DoesNotContain(b, kept);

        // Same value as the worst item: the older one (d) goes.
        var f = Insert(0.85f);
        Assert.Equal(new[] { c, e, f }.Order(), store.List("recovery").Select(i => i.Id).Order());
        Assert.Equal(3, memory.Count);
    }

    [Fact]
    public void Reopen_AfterInsertsAndEvictions_KeepsTargetsAndCapacityState()
    {
        using var dir = new TempDir();
        var r = new Random(4);
        var zs = Enumerable.Range(0, 6).Select(_ => TestData.RandomVector(r, Dim)).ToArray();
        var options = new RecoveryMemoryOptions { Capacity = 4, ValueWeight = 0 };
        ulong[] ids;
        using (var memory = RecoveryMemory.Open(dir.Options(FsyncPolicy.EveryWrite), options, Dim))
            ids = zs.Select((z, i) => memory.TryInsert(Segment(z, target: 0.8f + 0.02f * i))!.Value).ToArray();
        using (var memory = RecoveryMemory.Open(dir.Options(), options, Dim))
        {
            Assert.Equal(4, memory.Count);
            for (var i = 2; i < 6; i++) Assert.Equal(ids[i], memory.Query(zs[i], "push")!.Id);
            var next = memory.TryInsert(Segment(TestData.RandomVector(r, Dim), target: 0.99f))!.Value;
            Assert.True(next > ids.Max());
            Assert.Equal(4, memory.Count);
        }
    }

    [Fact]
    public void BadInput_WrongDimensionOrNaN_ThrowsAndStoresNothing()
    {
        using var dir = new TempDir();
        using var memory = RecoveryMemory.Open(dir.Options(), new RecoveryMemoryOptions(), Dim);
        var e = Assert.Throws<ArgumentException>(() => memory.TryInsert(Segment(new float[Dim - 1])));
        Assert.Contains($"dimension {Dim - 1}", e.Message);
        var nan = TestData.VectorFor(1, Dim);
        nan[0] = float.NaN;
        Assert.Throws<ArgumentException>(() => memory.TryInsert(Segment(nan)));
        Assert.Throws<ArgumentException>(() => memory.TryInsert(Segment(TestData.VectorFor(1, Dim), target: float.NaN)));
        Assert.Throws<ArgumentException>(() => memory.Query(new float[Dim + 3], "push"));
        Assert.Equal(0, memory.Count);
        Assert.Null(memory.Query(TestData.VectorFor(1, Dim), "push"));
    }
}
