using Rift.Learning;
using Rift.Nn;
using Rift.ValueCritic;

namespace Rift.ValueCritic.Tests.Critic;

public class FutureValueCriticTests
{
    private static readonly CriticOptions Small = new() { PredictorHidden = 16, ValueHidden = 8, BatchSize = 4, Steps = 10, ActionHistory = 4 };

    [Fact]
    public void Loss_TargetEmbedding_ReceivesNoGradient()
    {
        var critic = new FutureValueCritic(8, 2, Small, seed: 1);
        var trainer = new CriticTrainer(critic, Small, seed: 1);
        var rng = new Rng(3);
        var z = rng.Normal([4, 8]);
        var a = rng.Normal([4, 2]);
        var zFuture = new Tensor([4, 8], rng.Normal([4, 8]).ToArray(), requiresGrad: true, name: "z_future");
        var v = Tensor.FromArray([0.1f, 0.2f, 0.3f, 0.4f], 4, 1);
        var vf = Tensor.FromArray([0.2f, 0.3f, 0.4f, 0.5f], 4, 1);
        var g = new Graph();
        critic.Parameters.ZeroGrad();
        var (total, pred, _) = trainer.Loss(g, z, a, zFuture, v, vf);
        Assert.True(pred.Item() > 0);
        g.Backward(total);

        Assert.True(zFuture.Grad is null || zFuture.Grad.All(x => x == 0f), "gradient reached the stop-gradient target");
        Assert.Contains(critic.Predictor.Layers[0].Weight.Grad!, x => x != 0f);
        Assert.Contains(critic.V1.Layers[0].Weight.Grad!, x => x != 0f);
    }

    [Fact]
    public void Loss_WithoutDetach_WouldReachTarget()
    {
        // Control for the test above: the same graph without Detach does differentiate into the future embedding.
        var rng = new Rng(3);
        var zFuture = new Tensor([4, 8], rng.Normal([4, 8]).ToArray(), requiresGrad: true);
        var zHat = rng.Normal([4, 8]);
        var g = new Graph();
        g.Backward(g.MseLoss(zHat, g.LayerNorm(zFuture, null, null)));
        Assert.Contains(zFuture.Grad!, x => x != 0f);
    }

    [Fact]
    public void Evaluate_WrongEmbeddingDimension_ThrowsNamingBothSizes()
    {
        var critic = new FutureValueCritic(16, 4, Small);
        var ex = Assert.Throws<ArgumentException>(() => critic.Evaluate(new float[12], new float[4]));
        Assert.Contains("12", ex.Message);
        Assert.Contains("16", ex.Message);
        Assert.Throws<ArgumentException>(() => critic.Evaluate(new float[16], new float[3]));
    }

    [Fact]
    public void Evaluate_AfterWarmup_AllocatesNothing()
    {
        var critic = new FutureValueCritic(64, 4, new CriticOptions(), seed: 2);
        var trigger = new LearnedRiskTrigger(new WindowTriggerHead(8, 32), 0.5, 8);
        var z = new Rng(1).Normal([64]).ToArray();
        var a = new float[] { 0.1f, 0.2f, -0.3f, 1f };
        for (var i = 0; i < 10; i++) trigger.Update(critic.Evaluate(z, a));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var sum = 0f;
        for (var i = 0; i < 100; i++)
        {
            var q = critic.Evaluate(z, a);
            sum += q + critic.EvaluateNoFuture(z);
            trigger.Update(q);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(float.IsFinite(sum));
    }

    [Fact]
    public void Evaluate_MatchesGraphForward()
    {
        var critic = new FutureValueCritic(8, 2, Small, seed: 5);
        var z = new Rng(9).Normal([1, 8]);
        var a = Tensor.FromArray([0.5f, -0.5f], 1, 2);
        var g = new Graph(gradEnabled: false);
        var zn = g.LayerNorm(z, null, null);
        var zHat = g.Add(zn, critic.Predictor.Forward(g, g.Concat(zn, a)));
        var expected = 0.5f * (critic.V1.Forward(g, zHat).Item() + critic.V2.Forward(g, zHat).Item());
        Assert.Equal(expected, critic.Evaluate(z.Span, a.Span), 4);
    }

    [Fact]
    public void SaveLoad_RoundTrip_SameValues()
    {
        var critic = new FutureValueCritic(8, 2, Small, seed: 4);
        var path = Path.Combine(Path.GetTempPath(), $"rift-critic-{Guid.NewGuid():N}.safetensors");
        try
        {
            critic.Save(path);
            var loaded = FutureValueCritic.Load(path);
            var z = new Rng(2).Normal([8]).ToArray();
            float[] a = [0.3f, 0.1f];
            Assert.Equal(critic.Evaluate(z, a), loaded.Evaluate(z, a));
            Assert.Equal(critic.Horizon, loaded.Horizon);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Update_SyntheticLatents_ReducesLosses()
    {
        // z_{t+k} is a fixed function of (z_t, a_t) and the value is a function of z: both losses must fall.
        var o = new CriticOptions { PredictorHidden = 32, ValueHidden = 16, BatchSize = 32, LearningRate = 3e-3, ActionHistory = 1 };
        var critic = new FutureValueCritic(6, 2, o, seed: 1);
        var trainer = new CriticTrainer(critic, o, seed: 1);
        var rng = new Rng(11);
        var samples = new List<CriticSample>();
        for (var i = 0; i < 256; i++)
        {
            var z = rng.Normal([6]).ToArray();
            var a = new[] { rng.Uniform(-1, 1), rng.Uniform(-1, 1) };
            var zf = z.Select((x, j) => x + (j < 2 ? a[j] : 0f)).ToArray();
            samples.Add(new CriticSample(z, a, zf, 0.5f + 0.1f * z[0], 0.5f + 0.1f * zf[0]));
        }
        var first = trainer.Update(samples);
        (float Prediction, float Value) last = default;
        for (var i = 0; i < 300; i++) last = trainer.Update(samples);
        Assert.True(last.Prediction < 0.5f * first.Prediction, $"prediction loss {first.Prediction} → {last.Prediction}");
        Assert.True(last.Value < 0.5f * first.Value, $"value loss {first.Value} → {last.Value}");
    }

    [Fact]
    public void EvaluateWithGain_MatchesGainHeadGraphForward()
    {
        var critic = new FutureValueCritic(8, 2, Small, seed: 6);
        var z = new Rng(3).Normal([1, 8]);
        var a = Tensor.FromArray([0.25f, -0.75f], 1, 2);
        var previous = Tensor.FromArray([0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f], 1, 6);
        var g = new Graph(gradEnabled: false);
        var zn = g.LayerNorm(z, null, null);
        var zHat = g.Add(zn, critic.Predictor.Forward(g, g.Concat(zn, a)));
        var expected = critic.G.Forward(g, g.Concat(zHat, zn, a, previous)).Item();
        var (q, gain) = critic.EvaluateWithGain(z.Span, a.Span, previous.Span);
        Assert.Equal(expected, gain, 4);
        Assert.Equal(critic.Evaluate(z.Span, a.Span), q);
        // First step of a stream: the history is a_t repeated.
        var repeated = critic.G.Forward(g, g.Concat(zHat, zn, a, a, a, a)).Item();
        Assert.Equal(repeated, critic.EvaluateWithGain(z.Span, a.Span).Gain, 4);
    }

    [Fact]
    public void Samples_GainTarget_IsProxyChangeOverGainHorizonMaskedBeforeTakeover()
    {
        var ep = new RolloutEpisode { Kind = RolloutKind.Intervention, Seed = 1, Success = true, InterventionStart = 6 };
        for (var t = 0; t < 10; t++) ep.Actions.Add([0f, 0f]);
        for (var t = 0; t <= 10; t++)
        {
            ep.Embeddings.Add(new float[4]);
            ep.Progress.Add(0.05 * t);
        }
        var s = CriticTrainer.Samples([ep], horizon: 2, ProxyValue.Progress, gainHorizon: 3);
        Assert.Equal(0.15f, s[0].Gain, 5);               // Φ_3 − Φ_0
        Assert.Equal(1f - 0.45f, s[9].Gain, 5);          // clipped at T, success counts as 1
        Assert.Equal(0.1f, s[0].ValueFuture, 5);         // Φ_2
        Assert.Equal(1f, s[3].GainWeight);               // 3 + 3 ≤ 6: base policy throughout
        Assert.Equal(0f, s[4].GainWeight);               // reaches the supervisor's takeover
        ep.Labels.Clear();
        var baseEp = new RolloutEpisode { Kind = RolloutKind.Base, Seed = 2 };
        baseEp.Actions.AddRange(ep.Actions);
        baseEp.Embeddings.AddRange(ep.Embeddings);
        baseEp.Progress.AddRange(ep.Progress);
        Assert.All(CriticTrainer.Samples([baseEp], 2, ProxyValue.Progress, 3), x => Assert.Equal(1f, x.GainWeight));
    }

    [Fact]
    public void Update_GainTargetFromAction_GainHeadLearnsIt()
    {
        // The gain depends only on the action (like a frozen vs. a moving robot): the gain head must pick it up.
        var o = new CriticOptions { PredictorHidden = 16, ValueHidden = 16, BatchSize = 64, LearningRate = 3e-3, LatentNoise = 0, ActionHistory = 1 };
        var critic = new FutureValueCritic(6, 2, o, seed: 2);
        var trainer = new CriticTrainer(critic, o, seed: 2);
        var rng = new Rng(5);
        var samples = new List<CriticSample>();
        for (var i = 0; i < 256; i++)
        {
            var z = rng.Normal([6]).ToArray();
            var moving = i % 2 == 0;
            float[] a = moving ? [0.8f, 0.1f] : [0f, 0f];
            samples.Add(new CriticSample(z, a, z, 0.5f, 0.5f, moving ? 0.3f : 0f, 1f));
        }
        for (var i = 0; i < 300; i++) trainer.Update(samples);
        Assert.True(CriticTrainer.GainLoss(critic, samples) < 0.002, $"gain loss {CriticTrainer.GainLoss(critic, samples)}");
        var z0 = rng.Normal([6]).ToArray();
        Assert.True(critic.EvaluateWithGain(z0, [0.8f, 0.1f]).Gain > critic.EvaluateWithGain(z0, [0f, 0f]).Gain + 0.15f);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void FitGainToLabels_LearnsTheLabelOdds_OnACopy(int soup)
    {
        // Labelled episodes where "intervention needed" has odds 0.8 while the robot is held still and 0.1 while it
        // moves (z is noise): G fitted on the labels must estimate P(not needed) = 0.2 and 0.9, in a copy whose
        // predictor and value heads are the original's, and the original must be untouched.
        var o = new CriticOptions { PredictorHidden = 16, ValueHidden = 16, BatchSize = 64, LearningRate = 3e-3, LatentNoise = 0, ActionHistory = 2, GainLabelSoup = soup };
        var critic = new FutureValueCritic(6, 2, o, seed: 2);
        var before = critic.Parameters.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.Span.ToArray());
        var rng = new Rng(8);
        var episodes = new List<RolloutEpisode>();
        for (var e = 0; e < 40; e++)
        {
            var ep = new RolloutEpisode { Kind = RolloutKind.Base, Seed = e };
            var moving = e % 2 == 0;
            for (var t = 0; t <= 20; t++)
            {
                ep.Embeddings.Add(rng.Normal([6]).ToArray());
                ep.Progress.Add(0.5);
                if (t == 20) break;
                ep.Actions.Add(moving ? [0.8f, 0.1f] : [0f, 0f]);
                ep.Labels.Add(rng.NextDouble() < (moving ? 0.1 : 0.8));
            }
            episodes.Add(ep);
        }
        var fitted = CriticTrainer.FitGainToLabels(critic, o, episodes, steps: 400, seed: 3);

        // Mean over fresh latents: the odds depend on the actions only.
        var zs = Enumerable.Range(0, 200).Select(_ => rng.Normal([6]).ToArray()).ToList();
        var moveGain = zs.Average(z => fitted.EvaluateWithGain(z, [0.8f, 0.1f], [0.8f, 0.1f]).Gain);
        var stillGain = zs.Average(z => fitted.EvaluateWithGain(z, [0f, 0f], [0f, 0f]).Gain);
        Assert.InRange(moveGain, 0.82, 0.98);
        Assert.InRange(stillGain, 0.12, 0.28);
        var z = zs[0];
        foreach (var (name, t) in critic.Parameters.NamedParameters()) Assert.Equal(before[name], t.Span.ToArray());
        foreach (var (name, t) in fitted.Parameters.NamedParameters())
            if (!name.StartsWith("g.", StringComparison.Ordinal)) Assert.Equal(before[name], t.Span.ToArray());
        Assert.Equal(critic.Evaluate(z, [0.8f, 0.1f]), fitted.Evaluate(z, [0.8f, 0.1f]));

        episodes[0].Labels.RemoveAt(0);
        var ex = Assert.Throws<ArgumentException>(() => CriticTrainer.LabelSamples(episodes, critic));
        Assert.Contains("19 labels for 20 steps", ex.Message);
    }

    [Fact]
    public void FitGainToLabels_Soup_IsTheMeanOfTheFineTunes()
    {
        var o = new CriticOptions { PredictorHidden = 8, ValueHidden = 8, BatchSize = 16, LearningRate = 3e-3, LatentNoise = 0, ActionHistory = 2 };
        var critic = new FutureValueCritic(4, 2, o, seed: 3);
        var rng = new Rng(5);
        var episodes = new List<RolloutEpisode>();
        for (var e = 0; e < 6; e++)
        {
            var ep = new RolloutEpisode { Kind = RolloutKind.Base, Seed = e };
            for (var t = 0; t <= 10; t++)
            {
                ep.Embeddings.Add(rng.Normal([4]).ToArray());
                ep.Progress.Add(0.5);
                if (t == 10) break;
                ep.Actions.Add([e % 2, 0.5f]);
                ep.Labels.Add(rng.NextDouble() < 0.5);
            }
            episodes.Add(ep);
        }
        float[][] Gain(FutureValueCritic c) => [.. c.Parameters.NamedParameters().Where(p => p.Name.StartsWith("g.", StringComparison.Ordinal)).Select(p => p.Tensor.Span.ToArray())];
        var a = Gain(CriticTrainer.FitGainToLabels(critic, o, episodes, steps: 20, seed: 9));
        var b = Gain(CriticTrainer.FitGainToLabels(critic, o, episodes, steps: 20, seed: 9 + 7919));
        o.GainLabelSoup = 2;
        var soup = Gain(CriticTrainer.FitGainToLabels(critic, o, episodes, steps: 20, seed: 9));
        Assert.NotEqual(a[0], b[0]);
        for (var k = 0; k < soup.Length; k++)
            for (var j = 0; j < soup[k].Length; j++)
                Assert.Equal((a[k][j] + b[k][j]) / 2, soup[k][j], 6);
    }

    [Fact]
    public void LabelSamples_TargetTheOddsWhereKept_ElseTheMajorityBit()
    {
        var critic = new FutureValueCritic(3, 2, Small, seed: 1);
        RolloutEpisode Episode(int seed, bool[] labels, float[] odds)
        {
            var ep = new RolloutEpisode { Kind = RolloutKind.Base, Seed = seed };
            for (var t = 0; t <= labels.Length; t++) { ep.Embeddings.Add([t, 0f, 1f]); ep.Progress.Add(0.1 * t); }
            foreach (var l in labels) ep.Actions.Add([0.5f, 0f]);
            ep.Labels.AddRange(labels);
            ep.LabelOdds.AddRange(odds);
            return ep;
        }
        var withOdds = Episode(1, [true, false, false], [0.4f, 0.6f, 1f]);
        var bits = Episode(2, [true, false], []);
        var samples = CriticTrainer.LabelSamples([withOdds, bits], critic);
        Assert.Equal([0.4f, 0.6f, 1f, 0f, 1f], samples.Select(x => x.Gain));
        Assert.All(samples, x => Assert.Equal(1f, x.GainWeight));

        withOdds.LabelOdds.RemoveAt(2);
        var ex = Assert.Throws<ArgumentException>(() => CriticTrainer.LabelSamples([withOdds], critic));
        Assert.Contains("2 label odds for 3 steps", ex.Message);
    }

    [Fact]
    public void FillPreviousActions_PadsWithFirstActionOldestFirst()
    {
        List<float[]> actions = [[1f, 10f], [2f, 20f], [3f, 30f]];
        var prev = new float[3 * 2];
        FutureValueCritic.FillPreviousActions(actions, 0, 4, prev);
        Assert.Equal([1f, 10f, 1f, 10f, 1f, 10f], prev);
        FutureValueCritic.FillPreviousActions(actions, 2, 4, prev);
        Assert.Equal([1f, 10f, 1f, 10f, 2f, 20f], prev);
        Assert.Throws<ArgumentException>(() => FutureValueCritic.FillPreviousActions(actions, 2, 3, prev));
    }

    [Fact]
    public void EvaluateWithGain_WrongHistoryLength_ThrowsNamingTheCount()
    {
        var critic = new FutureValueCritic(8, 2, Small, seed: 1);
        var ex = Assert.Throws<ArgumentException>(() => critic.EvaluateWithGain(new float[8], new float[2], new float[2]));
        Assert.Contains($"{critic.ActionHistory - 1} previous", ex.Message);
    }

    [Fact]
    public void Train_GainHead_LearnsFromTheActionHistory()
    {
        // The gain is 0 when the two previous actions were zero (a stall that persists) and 0.3 otherwise; a_t and z are
        // noise. A head that sees h = 3 actions must learn it; one that sees a_t only cannot.
        double Fit(int h)
        {
            var o = new CriticOptions { PredictorHidden = 16, ValueHidden = 16, BatchSize = 64, Steps = 600, LearningRate = 3e-3, LatentNoise = 0, ActionHistory = h };
            var critic = new FutureValueCritic(6, 2, o, seed: 3);
            var rng = new Random(4);
            float[] Noise(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            List<CriticSample> Make(int n)
            {
                var list = new List<CriticSample>();
                for (var i = 0; i < n; i++)
                {
                    var stalled = i % 2 == 0;
                    var previous = stalled ? new float[4] : Noise(4);
                    var z = Noise(6);
                    list.Add(new CriticSample(z, Noise(2), z, 0.5f, 0.5f, stalled ? 0f : 0.3f, 1f, h == 1 ? null : previous));
                }
                return list;
            }
            var train = Make(512);
            var trainer = new CriticTrainer(critic, o, seed: 5);
            for (var i = 0; i < o.Steps; i++) trainer.Update(train);
            return CriticTrainer.GainLoss(critic, Make(256)); // held out
        }
        var withHistory = Fit(3);
        var single = Fit(1);
        Assert.True(withHistory < 0.25 * single, $"held-out gain loss with history {withHistory}, without {single}");
        Assert.True(single > 0.018, $"a_t alone cannot explain the gain (variance 0.0225), held-out loss {single}");
    }

    [Fact]
    public void Samples_ActionHistory_CarriesThePreviousActions()
    {
        var ep = new RolloutEpisode { Kind = RolloutKind.Base };
        for (var t = 0; t <= 3; t++)
        {
            ep.Embeddings.Add([t, 0f]);
            ep.Progress.Add(t / 3.0);
            if (t < 3) ep.Actions.Add([t + 1f]);
        }
        var s = CriticTrainer.Samples([ep], 1, ProxyValue.Progress, 2, actionHistory: 3);
        Assert.Equal([1f, 1f], s[0].PreviousActions!);
        Assert.Equal([1f, 2f], s[2].PreviousActions!);
        Assert.Null(CriticTrainer.Samples([ep], 1, ProxyValue.Progress, 2)[2].PreviousActions);
        var critic = new FutureValueCritic(2, 1, new CriticOptions { PredictorHidden = 4, ValueHidden = 4, BatchSize = 2, ActionHistory = 3 });
        var ex = Assert.Throws<ArgumentException>(() => new CriticTrainer(critic, new CriticOptions { BatchSize = 2 }).Update(CriticTrainer.Samples([ep], 1)));
        Assert.Contains("actionHistory: 3", ex.Message);
    }

    [Fact]
    public void Samples_ImprovesTarget_IsOneWhereTheProxyRisesByMoreThanDelta()
    {
        var ep = new RolloutEpisode { Kind = RolloutKind.Base };
        double[] phi = [0.1, 0.105, 0.2, 0.2, 0.2, 0.25];
        for (var t = 0; t < phi.Length; t++)
        {
            ep.Embeddings.Add([t, 1f]);
            ep.Progress.Add(phi[t]);
            if (t < phi.Length - 1) ep.Actions.Add([0f]);
        }
        var s = CriticTrainer.Samples([ep], 1, ProxyValue.Progress, gainHorizon: 1, gainTarget: GainTarget.Improves, gainMinImprovement: 0.01);
        Assert.Equal([0f, 1f, 0f, 0f, 1f], s.Select(x => x.Gain).ToArray()); // +0.005 is not progress, +0.095 and +0.05 are
        var critic = new FutureValueCritic(2, 1, new CriticOptions { PredictorHidden = 4, ValueHidden = 4, GainHorizon = 1, ActionHistory = 2 });
        Assert.Equal(s.Select(x => x.Gain), CriticTrainer.Samples([ep], critic, ProxyValue.Progress).Select(x => x.Gain));
    }

    [Fact]
    public void SaveLoad_KeepsGainTargetAndActionHistory()
    {
        var o = new CriticOptions { PredictorHidden = 8, ValueHidden = 8, ActionHistory = 3, GainTarget = GainTarget.Change, GainMinImprovement = 0.02 };
        var critic = new FutureValueCritic(6, 2, o, seed: 9);
        var path = Path.Combine(Path.GetTempPath(), $"rift-critic-{Guid.NewGuid():N}.safetensors");
        try
        {
            critic.Save(path);
            var back = FutureValueCritic.Load(path);
            Assert.Equal((3, GainTarget.Change, 0.02), (back.ActionHistory, back.GainTarget, back.GainMinImprovement));
            float[] z = [1f, 0f, 2f, 0f, 3f, 0f], a = [0.5f, -0.5f], prev = [0.1f, 0.2f, 0.3f, 0.4f];
            Assert.Equal(critic.EvaluateWithGain(z, a, prev), back.EvaluateWithGain(z, a, prev));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
