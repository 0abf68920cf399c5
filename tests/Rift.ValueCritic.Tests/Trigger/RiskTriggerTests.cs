using Rift.ValueCritic;

namespace Rift.ValueCritic.Tests.Trigger;

public class RiskTriggerTests
{
    /// <summary>Feeds values; returns (step index, reason) of every firing.</summary>
    private static List<(int Step, TriggerReason Reason)> Feed(IRiskTrigger trigger, IEnumerable<float> values)
    {
        var fired = new List<(int, TriggerReason)>();
        var i = 0;
        foreach (var v in values)
        {
            var r = trigger.Update(v);
            if (r != TriggerReason.None) fired.Add((i, r));
            i++;
        }
        return fired;
    }

    /// <summary>Rising progress with small deterministic noise (seeded).</summary>
    private static IEnumerable<float> Rising(int n, float start, float perStep, int seed, float noise = 0.005f)
    {
        var rng = new Random(seed);
        for (var i = 0; i < n; i++) yield return start + perStep * i + (float)(rng.NextDouble() * 2 - 1) * noise;
    }

    [Fact]
    public void Update_SustainedDecline_FiresDecline()
    {
        var t = new RiskTrigger();
        var values = Rising(12, 0.3f, 0.01f, seed: 1).Concat(Rising(12, 0.42f, -0.02f, seed: 2)).ToArray();
        var fired = Feed(t, values);
        Assert.NotEmpty(fired);
        Assert.Equal(TriggerReason.Decline, fired[0].Reason);
        Assert.True(fired[0].Step >= 12 + 4, $"fired at {fired[0].Step}, before the decline was sustained");
    }

    [Fact]
    public void Update_PlateauBelowLevel_FiresPlateau()
    {
        var t = new RiskTrigger();
        var values = Rising(10, 0.2f, 0.015f, seed: 3).Concat(Rising(12, 0.35f, 0f, seed: 4, noise: 0.008f)).ToArray();
        var fired = Feed(t, values);
        Assert.NotEmpty(fired);
        Assert.Equal(TriggerReason.Plateau, fired[0].Reason);
        Assert.True(fired[0].Step >= 10, $"fired at {fired[0].Step}, while the value was still rising");
    }

    [Fact]
    public void Update_PlateauAboveLevel_DoesNotFire()
    {
        var t = new RiskTrigger();
        Assert.Empty(Feed(t, Rising(30, 0.9f, 0f, seed: 5)));
    }

    [Fact]
    public void Update_SteadyProgress_DoesNotFire()
    {
        var t = new RiskTrigger();
        Assert.Empty(Feed(t, Rising(60, 0.1f, 0.012f, seed: 6)));
    }

    [Theory]
    [InlineData(0.15f)]
    [InlineData(0.3f)]
    public void Update_TransientDipThatRecovers_DoesNotFire(float depth)
    {
        var t = new RiskTrigger();
        var values = Rising(40, 0.1f, 0.012f, seed: 7).ToArray();
        values[20] -= depth; // one-step dip during contact, recovered at the next step
        Assert.Empty(Feed(t, values));
    }

    [Fact]
    public void Update_AbruptDropThatPersists_FiresAbruptDropAfterConfirmation()
    {
        var t = new RiskTrigger();
        var values = Rising(20, 0.3f, 0.012f, seed: 8).ToList();
        var last = values[^1];
        values.AddRange([last - 0.2f, last - 0.19f, last - 0.18f]);
        var fired = Feed(t, values);
        Assert.Equal((21, TriggerReason.AbruptDrop), fired[0]); // drop at 20, confirmed at 21
    }

    [Fact]
    public void Update_DropBelowThreshold_DoesNotFireAbruptDrop()
    {
        var t = new RiskTrigger();
        var values = Rising(20, 0.3f, 0.012f, seed: 9, noise: 0f).ToList();
        var last = values[^1];
        values.AddRange([last - 0.1f, last - 0.09f]); // 0.10 < 0.12, then climbing again
        Assert.DoesNotContain(Feed(t, values), f => f.Reason == TriggerReason.AbruptDrop);
    }

    [Fact]
    public void Update_NoConfirmation_FiresAtTheDrop()
    {
        var t = new RiskTrigger(new RiskTriggerOptions { AbruptConfirmSteps = 0 });
        var values = Rising(10, 0.3f, 0.01f, seed: 10, noise: 0f).Append(0.2f).ToArray();
        Assert.Equal((10, TriggerReason.AbruptDrop), Feed(t, values)[0]);
    }

    [Fact]
    public void Update_AfterFiring_RespectsCooldown()
    {
        var t = new RiskTrigger(new RiskTriggerOptions { CooldownSteps = 5 });
        var fired = Feed(t, Rising(30, 0.3f, 0f, seed: 11)); // a plateau that never ends
        Assert.True(fired.Count >= 2);
        Assert.Equal(TriggerReason.Plateau, fired[0].Reason);
        Assert.Equal(7, fired[0].Step); // first full window
        for (var i = 1; i < fired.Count; i++) Assert.Equal(6, fired[i].Step - fired[i - 1].Step); // 5 quiet updates between
    }

    [Fact]
    public void Update_FewerThanMinSamples_DoesNotFire()
    {
        var t = new RiskTrigger(new RiskTriggerOptions { MinSamples = 8 });
        Assert.Empty(Feed(t, Enumerable.Repeat(0.2f, 7)));
        Assert.Equal(TriggerReason.Plateau, t.Update(0.2f));
    }

    [Fact]
    public void Reset_ClearsWindowAndCooldown()
    {
        var t = new RiskTrigger(new RiskTriggerOptions { CooldownSteps = 100 });
        Assert.NotEmpty(Feed(t, Enumerable.Repeat(0.2f, 8)));
        Assert.Equal(TriggerReason.Plateau, t.LastReason);
        t.Reset();
        Assert.Equal(0, t.Count);
        Assert.Equal(TriggerReason.None, t.LastReason);
        Assert.Empty(Feed(t, Enumerable.Repeat(0.2f, 7))); // window refills first
        Assert.Equal(TriggerReason.Plateau, t.Update(0.2f)); // cooldown of 100 was cleared
    }

    [Fact]
    public void CopyWindow_ReturnsLastKOldestFirst()
    {
        var t = new RiskTrigger(new RiskTriggerOptions { WindowSize = 4, MinSamples = 4, CooldownSteps = 0, PlateauValue = 0 });
        foreach (var v in new[] { 1f, 2f, 3f, 4f, 5f, 6f }) t.Update(v / 10);
        var w = new float[4];
        Assert.Equal(4, t.CopyWindow(w));
        Assert.Equal([0.3f, 0.4f, 0.5f, 0.6f], w);
    }

    [Fact]
    public void Update_NaN_ThrowsNamingValue()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RiskTrigger().Update(float.NaN));
        Assert.Equal("value", e.ParamName);
    }

    [Fact]
    public void Constructor_MinSamplesAboveWindow_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new RiskTrigger(new RiskTriggerOptions { WindowSize = 4, MinSamples = 6 }));
        Assert.Contains("MinSamples", e.Message);
    }
}

public class ValueThresholdTriggerTests
{
    [Fact]
    public void Update_BelowThreshold_FiresThenCoolsDown()
    {
        var t = new ValueThresholdTrigger(new ValueThresholdTriggerOptions { Threshold = 0.3, CooldownSteps = 2 });
        var reasons = new[] { 0.5f, 0.2f, 0.2f, 0.2f, 0.2f, 0.5f }.Select(t.Update).ToArray();
        Assert.Equal([TriggerReason.None, TriggerReason.ValueThreshold, TriggerReason.None, TriggerReason.None, TriggerReason.ValueThreshold, TriggerReason.None], reasons);
    }

    [Fact]
    public void Reset_ClearsCooldown()
    {
        var t = new ValueThresholdTrigger(new ValueThresholdTriggerOptions { Threshold = 0.3, CooldownSteps = 50 });
        Assert.Equal(TriggerReason.ValueThreshold, t.Update(0.1f));
        Assert.Equal(TriggerReason.None, t.Update(0.1f));
        t.Reset();
        Assert.Equal(TriggerReason.ValueThreshold, t.Update(0.1f));
    }
}
