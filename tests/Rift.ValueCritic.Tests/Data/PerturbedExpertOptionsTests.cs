using Rift.Learning;
using Rift.ValueCritic;

namespace Rift.ValueCritic.Tests.Data;

public class PerturbedExpertOptionsTests
{
    [Fact]
    public void ForTask_Unset_UsesTaskLevelAndSetValueWins()
    {
        var unset = new PerturbedExpertOptions();
        Assert.Equal(0.25, unset.ForTask("push").ActionNoise);
        Assert.Equal(0.25, unset.ForTask("pick-place").ActionNoise);
        Assert.Equal(0.1, unset.ForTask("peg-insert").ActionNoise);
        Assert.Null(unset.ActionNoise); // resolved on a copy
        var set = new PerturbedExpertOptions { ActionNoise = 0.2, LapseProbability = 0.4 };
        Assert.Equal(0.2, set.ForTask("peg-insert").ActionNoise);
        Assert.Equal(0.4, set.ForTask("peg-insert").LapseProbability);
    }

    [Fact]
    public void ForTask_Resolved_KeepsTheEpisodeCacheKeyOfTheExplicitValue()
    {
        // Collected data depends on the effective noise only: resolving the default must not invalidate entries
        // collected with the same value set explicitly.
        Assert.Equal(EpisodeCache.Key("push", new PerturbedExpertOptions { ActionNoise = 0.25 }), EpisodeCache.Key("push", new PerturbedExpertOptions().ForTask("push")));
        Assert.NotEqual(EpisodeCache.Key("peg-insert", new PerturbedExpertOptions { ActionNoise = 0.25 }), EpisodeCache.Key("peg-insert", new PerturbedExpertOptions().ForTask("peg-insert")));
    }

    [Fact]
    public void Constructor_UnresolvedNoise_ThrowsNamingForTask()
    {
        var e = Assert.Throws<ArgumentException>(() => new PerturbedExpertPolicy(new ConstantExpert(0f), new PerturbedExpertOptions(), 10));
        Assert.Contains("ForTask", e.Message);
    }
}
