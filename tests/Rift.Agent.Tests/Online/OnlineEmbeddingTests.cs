using Rift.Agent.Online;
using Rift.Learning;
using Rift.Nn;
using Rift.ValueCritic;

namespace Rift.Agent.Tests.Online;

public class OnlineEmbeddingTests
{
    private static readonly ConvFrameEncoder Conv = new(new ConvEncoderNetwork(16, 4, 6, new Rng(5)));

    private static Frame TestFrame()
    {
        var rgb = new byte[16 * 16 * 3];
        for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 37 % 251);
        return new Frame(16, 16, rgb);
    }

    [Fact]
    public void FrameEmbeddingEncoder_PrecomputedEmbedding_IsCopied()
    {
        var z = new float[6];
        new FrameEmbeddingEncoder(Conv).Encode(new Observation { Proprio = [0f], Embedding = [1, 2, 3, 4, 5, 6], Frame = TestFrame() }, z);
        Assert.Equal([1f, 2, 3, 4, 5, 6], z);
    }

    [Fact]
    public void FrameEmbeddingEncoder_FrameOnly_EncodesWithFrozenEncoder()
    {
        var frame = TestFrame();
        var expected = new float[6];
        Conv.Encode(frame, expected);
        var z = new float[6];
        new FrameEmbeddingEncoder(Conv).Encode(new Observation { Proprio = [0f], Frame = frame }, z);
        Assert.Equal(expected, z);
    }

    [Fact]
    public void FrameEmbeddingEncoder_WrongEmbeddingSize_Throws()
    {
        var z = new float[6];
        Assert.Throws<ArgumentException>(() => new FrameEmbeddingEncoder(Conv).Encode(new Observation { Proprio = [0f], Embedding = [1, 2] }, z));
    }
}
