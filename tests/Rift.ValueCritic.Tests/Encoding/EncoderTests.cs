using Rift.Learning;
using Rift.Nn;
using Rift.ValueCritic;

namespace Rift.ValueCritic.Tests.Encoding;

public class EncoderTests
{
    private static Frame RandomFrame(int size, int seed)
    {
        var rgb = new byte[size * size * 3];
        new Random(seed).NextBytes(rgb);
        return new Frame(size, size, rgb);
    }

    private static Observation Obs(Frame? frame = null, float[]? embedding = null) => new() { Proprio = new float[7], Frame = frame, Embedding = embedding };

    [Fact]
    public void ExternalEncoder_WrongDimension_ThrowsClearMessage()
    {
        var enc = new ExternalEmbeddingEncoder(1024);
        var ex = Assert.Throws<ArgumentException>(() => enc.Encode(Obs(embedding: new float[768]), new float[1024]));
        Assert.Contains("768", ex.Message);
        Assert.Contains("1024", ex.Message);
        var missing = Assert.Throws<ArgumentException>(() => enc.Encode(Obs(), new float[1024]));
        Assert.Contains("Embedding", missing.Message);
    }

    [Fact]
    public void ExternalEncoder_RightDimension_CopiesEmbedding()
    {
        var e = Enumerable.Range(0, 32).Select(i => (float)i).ToArray();
        var z = new float[32];
        new ExternalEmbeddingEncoder(32).Encode(Obs(embedding: e), z);
        Assert.Equal(e, z);
    }

    [Fact]
    public void ConvEncoder_Encode_ShapeAndDeterminism()
    {
        var enc = new ConvFrameEncoder(new ConvEncoderNetwork(32, 4, 16, new Rng(1)));
        Assert.Equal(16, enc.Dimension);
        var frame = RandomFrame(64, 1);
        var z1 = new float[16];
        var z2 = new float[16];
        enc.Encode(Obs(frame), z1);
        enc.Encode(Obs(frame), z2);
        Assert.Equal(z1, z2);
        var z3 = new float[16];
        enc.Encode(Obs(RandomFrame(64, 2)), z3);
        Assert.NotEqual(z1, z3);
        Assert.Throws<ArgumentException>(() => enc.Encode(Obs(frame), new float[15]));
        var noFrame = Assert.Throws<ArgumentException>(() => enc.Encode(Obs(), z1));
        Assert.Contains("Frame", noFrame.Message);
    }

    [Fact]
    public void ConvEncoder_Encode_AfterWarmup_AllocatesNothing()
    {
        var enc = new ConvFrameEncoder(new ConvEncoderNetwork(64, 16, 64, new Rng(1)));
        var obs = Obs(RandomFrame(128, 3));
        var z = new float[64];
        for (var i = 0; i < 5; i++) enc.Encode(obs, z);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++) enc.Encode(obs, z);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void FeaturesForwardSingle_MatchesBatchedGemmPath()
    {
        var net = new ConvEncoderNetwork(32, 4, 8, new Rng(2));
        var input = new Rng(3).Normal([net.InputLength]).ToArray();
        var cols = Enumerable.Range(0, 4).Select(l => new float[net.ColLength(l, 1)]).ToArray();
        var acts = Enumerable.Range(0, 4).Select(l => new float[net.ActLength(l, 1)]).ToArray();
        var batched = new float[net.FeatureSize];
        var single = new float[net.FeatureSize];
        net.FeaturesForward(1, input, cols, acts, batched);
        net.FeaturesForwardSingle(input, cols, acts, single);
        for (var i = 0; i < single.Length; i++) Assert.Equal(batched[i], single[i], 4);
    }

    [Fact]
    public void ConvEncoder_SaveLoad_SameEmbedding()
    {
        var net = new ConvEncoderNetwork(32, 4, 8, new Rng(5));
        var path = Path.Combine(Path.GetTempPath(), $"rift-enc-{Guid.NewGuid():N}.safetensors");
        try
        {
            net.Save(path, net.Metadata());
            var a = new ConvFrameEncoder(net);
            var b = ConvFrameEncoder.Load(path);
            var f = Obs(RandomFrame(32, 9));
            var za = new float[8];
            var zb = new float[8];
            a.Encode(f, za);
            b.Encode(f, zb);
            Assert.Equal(za, zb);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FeaturesBackward_MatchesFiniteDifferences()
    {
        // Loss = Σ r ⊙ features; the hand-written convolution backward must match central differences.
        var net = new ConvEncoderNetwork(16, 2, 4, new Rng(3));
        const int batch = 2;
        var rng = new Rng(4);
        var input = rng.Normal([3 * batch * 16 * 16]).ToArray();
        var r = rng.Normal([batch * net.FeatureSize]).ToArray();
        var cols = Enumerable.Range(0, 4).Select(l => new float[net.ColLength(l, batch)]).ToArray();
        var acts = Enumerable.Range(0, 4).Select(l => new float[net.ActLength(l, batch)]).ToArray();
        var dActs = Enumerable.Range(0, 4).Select(l => new float[net.ActLength(l, batch)]).ToArray();
        var dCol = new float[cols.Max(c => c.Length)];
        var feats = new float[batch * net.FeatureSize];
        double Loss()
        {
            net.FeaturesForward(batch, input, cols, acts, feats);
            double s = 0;
            for (var i = 0; i < feats.Length; i++) s += feats[i] * (double)r[i];
            return s;
        }
        foreach (var w in net.Weights) w.ZeroGrad();
        foreach (var b in net.Biases) b.ZeroGrad();
        Loss();
        net.FeaturesBackward(batch, r, cols, acts, dActs, dCol);
        var checkRng = new Random(1);
        for (var l = 0; l < 4; l++)
        {
            foreach (var p in new[] { net.Weights[l], net.Biases[l] })
            {
                for (var k = 0; k < 4; k++)
                {
                    var i = checkRng.Next(p.Size);
                    var old = p.Span[i];
                    const float h = 1e-2f;
                    p.Span[i] = old + h;
                    var up = Loss();
                    p.Span[i] = old - h;
                    var down = Loss();
                    p.Span[i] = old;
                    var numeric = (up - down) / (2 * h);
                    var analytic = p.Grad![i];
                    Assert.True(Math.Abs(numeric - analytic) <= 2e-2 * Math.Max(1.0, Math.Abs(numeric)), $"layer {l} {p.Name}[{i}]: numeric {numeric}, analytic {analytic}");
                }
            }
        }
    }

    [Fact]
    public void EncoderTrainer_Update_LowersTimeContrastiveLoss()
    {
        // Synthetic "episodes": a bright square moving across the image; neighbours in time must become positives.
        const int size = 16;
        var episodes = new List<IReadOnlyList<byte[]>>();
        for (var e = 0; e < 8; e++)
        {
            var frames = new List<byte[]>();
            for (var t = 0; t < 12; t++)
            {
                var rgb = new byte[size * size * 3];
                int cx = (e * 3 + t) % 12, cy = (e * 5) % 12;
                for (var y = cy; y < cy + 4; y++)
                    for (var x = cx; x < cx + 4; x++)
                        rgb[(y * size + x) * 3 + e % 3] = 255;
                frames.Add(rgb);
            }
            episodes.Add(frames);
        }
        var o = new ConvEncoderOptions { InputSize = size, Width = 4, EmbeddingSize = 8, BatchSize = 8, LearningRate = 3e-3 };
        var trainer = new EncoderTrainer(new ConvEncoderNetwork(size, 4, 8, new Rng(1)), o, seed: 1);
        var first = Enumerable.Range(0, 5).Select(_ => trainer.Update(episodes)).Average();
        for (var i = 0; i < 150; i++) trainer.Update(episodes);
        var last = Enumerable.Range(0, 10).Select(_ => trainer.Update(episodes)).Average();
        Assert.True(last < 0.7 * first, $"InfoNCE {first} → {last}");
    }
}
