using Rift.ValueCritic;

namespace Rift.ValueCritic.Tests.Data;

public class EpisodeCacheTests
{
    private static RolloutEpisode Episode(int seed, bool success)
    {
        var ep = new RolloutEpisode { Kind = RolloutKind.Intervention, Seed = seed, Success = success, InterventionStart = 2 };
        for (var t = 0; t < 4; t++)
        {
            ep.Actions.Add([t, -t, 0.5f * t, 1f]);
            ep.Labels.Add(t % 2 == 0);
        }
        for (var t = 0; t <= 4; t++)
        {
            ep.Embeddings.Add([seed + t, 0.25f * t, -1f]);
            ep.Progress.Add(0.1 * t);
        }
        return ep;
    }

    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "rift-episode-cache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void SaveLoad_RoundTripsEveryField()
    {
        var dir = TempDir();
        try
        {
            var path = Path.Combine(dir, "x.bin");
            EpisodeCache.Save(path, [Episode(7, true), Episode(9, false)]);
            var back = EpisodeCache.Load(path);
            Assert.Equal(2, back.Count);
            var (a, b) = (Episode(9, false), back[1]);
            Assert.Equal(a.Kind, b.Kind);
            Assert.Equal(a.Seed, b.Seed);
            Assert.Equal(a.Success, b.Success);
            Assert.Equal(a.InterventionStart, b.InterventionStart);
            Assert.Equal(a.Actions, b.Actions);
            Assert.Equal(a.Embeddings, b.Embeddings);
            Assert.Equal(a.Progress, b.Progress);
            Assert.Equal(a.Labels, b.Labels);
            Assert.Empty(b.LabelOdds);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SaveLoad_RoundTripsLabelOdds_AndReadsVersionOneFiles()
    {
        var dir = TempDir();
        try
        {
            var path = Path.Combine(dir, "x.bin");
            var ep = Episode(5, true);
            ep.LabelOdds.AddRange([0.2f, 0.6f, 0.4f, 1f]);
            EpisodeCache.Save(path, [ep]);
            Assert.Equal([0.2f, 0.6f, 0.4f, 1f], EpisodeCache.Load(path)[0].LabelOdds);

            // A version-1 file (written before the odds existed) is the same record without the odds count.
            var v1 = Path.Combine(dir, "v1.bin");
            using (var w = new BinaryWriter(File.Create(v1)))
            {
                w.Write(0x52455043);
                w.Write(1);
                w.Write(1);
                w.Write((byte)RolloutKind.Base);
                w.Write(11);
                w.Write(false);
                w.Write(-1);
                w.Write(1); w.Write(2); w.Write(0.5f); w.Write(-0.5f); // actions: 1 × 2
                w.Write(2); w.Write(1); w.Write(3f); w.Write(4f); // embeddings: 2 × 1
                w.Write(2); w.Write(0.25); w.Write(0.5);
                w.Write(1); w.Write(true);
            }
            var back = Assert.Single(EpisodeCache.Load(v1));
            Assert.Equal(11, back.Seed);
            Assert.Equal([[0.5f, -0.5f]], back.Actions);
            Assert.Equal([0.25, 0.5], back.Progress);
            Assert.Equal([true], back.Labels);
            Assert.Empty(back.LabelOdds);

            File.WriteAllBytes(v1, [.. BitConverter.GetBytes(0x52455043), .. BitConverter.GetBytes(3)]);
            Assert.Contains("version 3", Assert.Throws<InvalidDataException>(() => EpisodeCache.Load(v1)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Key_IsStableAcrossFileVersions() =>
        // Pinned: a new file layout must not invalidate (and relabel) every cached entry.
        Assert.Equal("4c84838d67b56473b53d", EpisodeCache.Key("push"));

    [Fact]
    public void GetOrCollect_SecondCallWithSameKey_ReadsCacheWithoutCollecting()
    {
        var dir = TempDir();
        try
        {
            var calls = 0;
            List<RolloutEpisode> Collect() { calls++; return [Episode(3, true)]; }
            var key = EpisodeCache.Key("push", 1000, new PerturbedExpertOptions());
            var first = EpisodeCache.GetOrCollect(dir, "push.labelled", key, Collect);
            var second = EpisodeCache.GetOrCollect(dir, "push.labelled", key, Collect);
            Assert.Equal(1, calls);
            Assert.Equal(first[0].Embeddings, second[0].Embeddings);
            EpisodeCache.GetOrCollect(null, "push.labelled", key, Collect);
            Assert.Equal(2, calls); // no directory: the cache is off
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void GetOrCollect_CorruptFile_IsReplaced()
    {
        var dir = TempDir();
        try
        {
            var key = EpisodeCache.Key("push");
            File.WriteAllBytes(Path.Combine(dir, $"x.{key}.bin"), [1, 2, 3]);
            var eps = EpisodeCache.GetOrCollect(dir, "x", key, () => [Episode(1, true)]);
            Assert.Single(eps);
            Assert.Single(EpisodeCache.Load(Path.Combine(dir, $"x.{key}.bin")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Key_ChangesWithAnyOptionAndEncoderBytes()
    {
        var o = new PerturbedExpertOptions();
        var k = EpisodeCache.Key("push", 5, o, new byte[] { 1, 2 });
        Assert.Equal(k, EpisodeCache.Key("push", 5, new PerturbedExpertOptions(), new byte[] { 1, 2 }));
        Assert.NotEqual(k, EpisodeCache.Key("push", 5, new PerturbedExpertOptions { ActionNoise = 0.3 }, new byte[] { 1, 2 }));
        Assert.NotEqual(k, EpisodeCache.Key("push", 5, o, new byte[] { 1, 3 }));
        Assert.NotEqual(k, EpisodeCache.Key("push", 6, o, new byte[] { 1, 2 }));
        Assert.NotEqual(EpisodeCache.Key(new EpisodeCacheOptions { Enabled = true }), EpisodeCache.Key(new EpisodeCacheOptions { Enabled = false }));
    }

    [Fact]
    public void ProgressProxy_FollowsOracleProgressAndIsOneAtSuccess()
    {
        var ep = Episode(1, success: true);
        Assert.Equal(0.2f, ep.ProgressProxy(2), 6);
        Assert.Equal(1f, ep.ProgressProxy(4));
        var failed = Episode(1, success: false);
        Assert.Equal(0.3f, failed.ProgressProxy(3), 6); // keeps its shape inside a failure
        Assert.Equal(0f, failed.Proxy(3));
        Assert.Equal(failed.ProgressProxy(3), failed.ProxyOf(ProxyValue.Progress, 3));
    }
}
