using Rift.ValueCritic;

namespace Rift.ValueCritic.Tests.Trigger;

public class LearnedRiskTriggerTests
{
    /// <summary>Synthetic value streams: rising progress (label 0) that stalls or declines from step s (label 1 from s on).</summary>
    private static (float[] Values, bool[] Labels) Episode(Random rng, int kind)
    {
        const int n = 40;
        var v = new float[n];
        var l = new bool[n];
        var s = 12 + rng.Next(10);
        var level = 0f;
        for (var t = 0; t < n; t++)
        {
            var noise = (float)(rng.NextDouble() - 0.5) * 0.01f;
            if (kind == 0 || t < s) level += 0.02f;
            else if (kind == 2) level -= 0.02f;
            v[t] = level + noise;
            l[t] = kind != 0 && t >= s;
        }
        return (v, l);
    }

    /// <summary>Window features (K = 8) and labels of <paramref name="episodes"/> synthetic episodes, kinds in turn.</summary>
    private static (List<float[]> Features, List<bool> Labels) TrainingSet(Random rng, int episodes)
    {
        var feats = new List<float[]>();
        var labels = new List<bool>();
        for (var e = 0; e < episodes; e++)
        {
            var (v, l) = Episode(rng, e % 3);
            feats.AddRange(LearnedRiskTrigger.SequenceFeatures(v, 8));
            labels.AddRange(l);
        }
        return (feats, labels);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Train_SyntheticStallsAndDeclines_FiresOnThemNotOnProgress(int members)
    {
        var (feats, labels) = TrainingSet(new Random(1), 60);
        var head = new WindowTriggerHead(8, 16, seed: 1, members: members);
        var o = new LearnedTriggerOptions { Steps = 400, LearningRate = 1e-2 };
        head.Train(feats, labels, o);

        var test = new Random(99);
        var trigger = new LearnedRiskTrigger(head, 0.5, 8);
        for (var e = 0; e < 9; e++)
        {
            var kind = e % 3;
            var (v, l) = Episode(test, kind);
            var fired = TriggerEvaluation.Firings(trigger, v);
            if (kind == 0) Assert.Empty(fired);
            else
            {
                Assert.NotEmpty(fired);
                var start = Array.IndexOf(l, true);
                Assert.True(fired[0] >= start - 3, $"kind {kind}: fired at {fired[0]}, stall from {start}");
            }
        }
    }

    [Fact]
    public void Ensemble_AveragesItsMembers_FirstAsASingleHead_AndRoundTrips()
    {
        const int k = 8;
        var single = new WindowTriggerHead(k, 8, seed: 5, usesGain: true);
        var head = new WindowTriggerHead(k, 8, seed: 5, usesGain: true, members: 3);
        Assert.Equal(3, head.Networks.Count);
        Assert.Equal(single.Networks[0].NamedParameters().Select(p => p.Tensor.Span.ToArray()), head.Networks[0].NamedParameters().Select(p => p.Tensor.Span.ToArray()));
        Assert.NotEqual(head.Networks[0].NamedParameters().First().Tensor.Span.ToArray(), head.Networks[1].NamedParameters().First().Tensor.Span.ToArray());

        var rng = new Random(3);
        var x = Enumerable.Range(0, WindowTriggerHead.FeatureCount(k, usesGain: true)).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var mean = head.Networks.Average(n =>
        {
            var y = new float[1];
            new MlpEvaluator(n).Forward(x, y);
            return 1 / (1 + Math.Exp(-y[0]));
        });
        Assert.Equal(mean, head.Probability(x), 5);

        var path = Path.Combine(Path.GetTempPath(), $"rift-trigger-{Guid.NewGuid():N}.safetensors");
        try
        {
            LearnedRiskTrigger.Save(head, 0.3, path);
            Assert.Contains("m2.", string.Join(" ", Rift.Nn.SafeTensors.Load(path).Keys));
            var loaded = LearnedRiskTrigger.Load(path, cooldownSteps: 0);
            float[] values = [0.5f, 0.4f, 0.3f], gains = [0.2f, 0.1f, 0f];
            for (var t = 0; t < values.Length; t++) loaded.Update(values[t], gains[t]);
            var reference = new LearnedRiskTrigger(head, 0.3, 0);
            for (var t = 0; t < values.Length; t++) reference.Update(values[t], gains[t]);
            Assert.Equal(reference.LastProbability, loaded.LastProbability);

            LearnedRiskTrigger.Save(single, 0.3, path); // a single head keeps unprefixed names (files written before ensembles load)
            Assert.DoesNotContain("m0.", string.Join(" ", Rift.Nn.SafeTensors.Load(path).Keys));
            Assert.True(LearnedRiskTrigger.Load(path).UsesGain);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowTriggerHead(k, 8, members: 0));
    }

    [Fact]
    public void TrainMember_FitsThatMemberAlone_AsASingleHeadWouldBeFitted()
    {
        var (feats, labels) = TrainingSet(new Random(4), 30);
        var o = new LearnedTriggerOptions { Steps = 50, LearningRate = 1e-2 };
        var head = new WindowTriggerHead(8, 8, seed: 2, members: 3);
        var before = head.Networks.Select(n => n.NamedParameters().Select(p => p.Tensor.Span.ToArray()).ToList()).ToList();
        head.TrainMember(0, feats, labels, o);
        var single = new WindowTriggerHead(8, 8, seed: 2);
        single.Train(feats, labels, o);
        Assert.Equal(single.Probability(feats[5]), head.MemberProbability(0, feats[5]));
        for (var m = 1; m < 3; m++)
            Assert.Equal(before[m], head.Networks[m].NamedParameters().Select(p => p.Tensor.Span.ToArray()).ToList());
        Assert.NotEqual(before[0], head.Networks[0].NamedParameters().Select(p => p.Tensor.Span.ToArray()).ToList());
        Assert.Throws<ArgumentOutOfRangeException>(() => head.TrainMember(3, feats, labels, o));
    }

    [Fact]
    public void Features_ShortWindow_PadsWithOldest()
    {
        var f = new float[WindowTriggerHead.FeatureCount(4)];
        WindowTriggerHead.Features([0.5f, 0.6f], 4, f);
        Assert.Equal([0.5f, 0.5f, 0.5f, 0.6f], f[..4]);
        Assert.Equal(0.5f, f[^1]);
    }

    [Fact]
    public void FailureClassifierTrigger_CooldownSuppressesRepeats()
    {
        var t = new FailureClassifierTrigger(0.5, cooldownSteps: 3);
        var fired = TriggerEvaluation.Firings(t, [0.9f, 0.9f, 0.9f, 0.9f, 0.9f, 0.1f]);
        Assert.Equal([0, 4], fired);
    }
}

public class CriticRiskMonitorTests
{
    [Fact]
    public void Step_GainHead_AllocatesNothingAndPlainUpdateIsRejected()
    {
        var critic = new FutureValueCritic(32, 4, new CriticOptions { PredictorHidden = 16, ValueHidden = 8 }, seed: 1);
        var head = new WindowTriggerHead(8, 8, seed: 1, usesGain: true);
        var trigger = new LearnedRiskTrigger(head, 0.5, 8);
        var monitor = new CriticRiskMonitor(critic, trigger);
        var z = new float[32];
        z[0] = 1f;
        var a = new float[] { 0.1f, 0f, 0f, 1f };
        for (var i = 0; i < 10; i++) monitor.Step(z, a);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 50; i++) monitor.Step(z, a);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        var (q, gain) = critic.EvaluateWithGain(z, a);
        Assert.Equal(q, monitor.LastValue);
        Assert.Equal(gain, monitor.LastGain);
        var ex = Assert.Throws<InvalidOperationException>(() => trigger.Update(0.5f));
        Assert.Contains("gain", ex.Message);
    }

    [Fact]
    public void Trigger_AfterEvaluate_FeedsTheSameStepsGain()
    {
        // The loop's pattern: IValueCritic.Evaluate, then IRiskTrigger.Update(q) — must equal Update(q, gain).
        var critic = new FutureValueCritic(16, 4, new CriticOptions { PredictorHidden = 16, ValueHidden = 8 }, seed: 3);
        var head = new WindowTriggerHead(8, 8, seed: 3, usesGain: true);
        var monitor = new CriticRiskMonitor(critic, new LearnedRiskTrigger(head, 0.0, 0));
        var reference = new LearnedRiskTrigger(head, 0.0, 0);
        IValueCritic asCritic = monitor;
        var rng = new Random(5);
        var actions = new List<float[]>();
        var previous = new float[critic.PreviousActionsLength];
        for (var i = 0; i < 12; i++)
        {
            var z = Enumerable.Range(0, 16).Select(_ => (float)rng.NextDouble()).ToArray();
            float[] a = [0.1f * i, 0f, 0f, 1f];
            var q = asCritic.Evaluate(z, a);
            monitor.Trigger.Update(q);
            actions.Add(a);
            FutureValueCritic.FillPreviousActions(actions, i, critic.ActionHistory, previous);
            var (q2, g2) = critic.EvaluateWithGain(z, a, previous);
            reference.Update(q2, g2);
            Assert.Equal(q2, q);
            Assert.Equal(g2, monitor.LastGain); // the monitor's action history equals the recorded one
        }
        var inner = (LearnedRiskTrigger)monitor.InnerTrigger;
        Assert.Equal(reference.LastProbability, inner.LastProbability);
    }

    [Fact]
    public void Reset_StartsANewActionHistory()
    {
        var critic = new FutureValueCritic(8, 2, new CriticOptions { PredictorHidden = 8, ValueHidden = 8, ActionHistory = 3 }, seed: 7);
        var monitor = new CriticRiskMonitor(critic, new RiskTrigger(new RiskTriggerOptions()));
        var z = new float[8];
        z[1] = 1f;
        monitor.Evaluate(z, [0.9f, -0.9f]);
        monitor.Evaluate(z, [0.5f, 0.5f]);
        var withHistory = monitor.LastGain;
        Assert.Equal(critic.EvaluateWithGain(z, [0.5f, 0.5f], [0.9f, -0.9f, 0.9f, -0.9f]).Gain, withHistory);
        monitor.Reset();
        monitor.Evaluate(z, [0.5f, 0.5f]);
        Assert.Equal(critic.EvaluateWithGain(z, [0.5f, 0.5f]).Gain, monitor.LastGain);
        Assert.NotEqual(withHistory, monitor.LastGain);
    }

    [Fact]
    public void SaveLoad_GainHead_KeepsGainFlagAndThreshold()
    {
        var head = new WindowTriggerHead(8, 8, seed: 2, usesGain: true);
        var path = Path.Combine(Path.GetTempPath(), $"rift-trigger-{Guid.NewGuid():N}.safetensors");
        try
        {
            LearnedRiskTrigger.Save(head, 0.65, path);
            var t = LearnedRiskTrigger.Load(path);
            Assert.True(t.UsesGain);
            Assert.Equal(0.65, t.Threshold);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Features_CurrentValueHead_ContainTheNoFutureHeadsFeatures()
    {
        // The full head's features are the no-future head's (on V₀) plus those that need the predictor.
        float[] q = [0.5f, 0.45f, 0.4f], gain = [0.1f, 0f, -0.1f], v0 = [0.3f, 0.35f, 0.2f];
        const int k = 4;
        var full = new float[WindowTriggerHead.FeatureCount(k, usesGain: true, usesCurrentValue: true)];
        var noFuture = new float[WindowTriggerHead.FeatureCount(k)];
        WindowTriggerHead.Features(q, gain, v0, k, full);
        WindowTriggerHead.Features(v0, k, noFuture);
        var vBlock = full.AsSpan(2 * k + 2 + k, 2 * k + 1).ToArray();
        Assert.Equal(noFuture.AsSpan(0, 2 * k + 1).ToArray(), vBlock);
        Assert.Equal(noFuture[2 * k + 1], full[2 * k + 1]); // fill fraction
        Assert.Equal(10f * gain[2], full[2 * k + 2 + k - 1], 6);
    }

    [Fact]
    public void Trigger_CurrentValueHead_MonitorFeedsQGainAndV0WithoutAllocating()
    {
        var critic = new FutureValueCritic(16, 4, new CriticOptions { PredictorHidden = 16, ValueHidden = 8 }, seed: 4);
        var head = new WindowTriggerHead(8, 8, seed: 4, usesGain: true, usesCurrentValue: true);
        var monitor = new CriticRiskMonitor(critic, new LearnedRiskTrigger(head, 0.0, 0));
        var reference = new LearnedRiskTrigger(head, 0.0, 0);
        var rng = new Random(6);
        var zs = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, 16).Select(_ => (float)rng.NextDouble()).ToArray()).ToArray();
        float[] a = [0.2f, 0f, -0.1f, 1f];
        foreach (var z in zs)
        {
            monitor.Trigger.Update(((IValueCritic)monitor).Evaluate(z, a));
            var (q, g) = critic.EvaluateWithGain(z, a);
            reference.Update(q, g, critic.EvaluateNoFuture(z));
        }
        Assert.Equal(reference.LastProbability, ((LearnedRiskTrigger)monitor.InnerTrigger).LastProbability);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 50; i++) monitor.Step(zs[i % zs.Length], a);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Throws<InvalidOperationException>(() => reference.Update(0.5f, 0.1f));
        var path = Path.Combine(Path.GetTempPath(), $"rift-trigger-{Guid.NewGuid():N}.safetensors");
        try
        {
            LearnedRiskTrigger.Save(head, 0.4, path);
            Assert.True(LearnedRiskTrigger.Load(path).UsesCurrentValue);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
