using Rift.Nn;

namespace Rift.Nn.Tests;

public class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rift-nn-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void SaveLoad_RoundTrip_RestoresWeightsAndMetadata()
    {
        var a = new Mlp(4, [8], 2, new Rng(1), layerNorm: true);
        var b = new Mlp(4, [8], 2, new Rng(2), layerNorm: true);
        a.Save(P("m.safetensors"), new Dictionary<string, string> { ["task"] = "push" });
        b.Load(P("m.safetensors"));
        Assert.Equal(a.Parameters().SelectMany(p => p.ToArray()), b.Parameters().SelectMany(p => p.ToArray()));
        Assert.Equal("push", SafeTensors.ReadMetadata(P("m.safetensors"))["task"]);
    }

    [Fact]
    public void Save_Header_IsAlignedSafetensorsLayout()
    {
        var t = new Tensor([2, 3], [1, 2, 3, 4, 5, 6], name: "w");
        SafeTensors.Save(P("t.safetensors"), [("w", t)]);
        var bytes = File.ReadAllBytes(P("t.safetensors"));
        long n = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, n % 8);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Contains("\"dtype\":\"F32\"", header);
        Assert.Contains("\"shape\":[2,3]", header);
        Assert.Contains("\"data_offsets\":[0,24]", header);
        Assert.Equal(8 + n + 24, bytes.Length);
        Assert.Equal(6f, BitConverter.ToSingle(bytes, (int)(8 + n + 20)));
    }

    [Fact]
    public void Load_TruncatedFile_ThrowsAndLoadsNothing()
    {
        var a = new Mlp(4, [8], 2, new Rng(1));
        a.Save(P("m.safetensors"));
        var bytes = File.ReadAllBytes(P("m.safetensors"));
        File.WriteAllBytes(P("cut.safetensors"), bytes[..^10]);
        var b = new Mlp(4, [8], 2, new Rng(2));
        var before = b.Parameters().SelectMany(p => p.ToArray()).ToArray();
        var ex = Assert.Throws<SafeTensorsException>(() => b.Load(P("cut.safetensors")));
        Assert.Contains("cut.safetensors", ex.Message);
        Assert.Equal(before, b.Parameters().SelectMany(p => p.ToArray()));
        File.WriteAllBytes(P("tiny.safetensors"), bytes[..5]);
        Assert.Throws<SafeTensorsException>(() => b.Load(P("tiny.safetensors")));
    }

    [Fact]
    public void Load_CorruptHeader_Throws()
    {
        var a = new Mlp(4, [8], 2, new Rng(1));
        a.Save(P("m.safetensors"));
        var bytes = File.ReadAllBytes(P("m.safetensors"));
        bytes[9] = (byte)'#';
        File.WriteAllBytes(P("bad.safetensors"), bytes);
        var ex = Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(P("bad.safetensors")));
        Assert.Contains("header", ex.Message);
        var huge = (byte[])File.ReadAllBytes(P("m.safetensors")).Clone();
        BitConverter.GetBytes(1L << 40).CopyTo(huge, 0);
        File.WriteAllBytes(P("huge.safetensors"), huge);
        Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(P("huge.safetensors")));
    }

    [Fact]
    public void Load_MismatchedShape_NamesTensorAndLoadsNothing()
    {
        new Mlp(4, [8], 2, new Rng(1)).Save(P("m.safetensors"));
        var b = new Mlp(4, [9], 2, new Rng(2));
        var before = b.Parameters().SelectMany(p => p.ToArray()).ToArray();
        var ex = Assert.Throws<SafeTensorsException>(() => b.Load(P("m.safetensors")));
        Assert.Contains("0.weight", ex.Message);
        Assert.Contains("[8, 4]", ex.Message);
        Assert.Contains("[9, 4]", ex.Message);
        Assert.Equal(before, b.Parameters().SelectMany(p => p.ToArray()));
    }

    [Fact]
    public void Load_MissingTensor_NamesTensor()
    {
        new Mlp(4, [8], 2, new Rng(1)).Save(P("m.safetensors"));
        var b = new Mlp(4, [8], 2, new Rng(2), layerNorm: true);
        var ex = Assert.Throws<SafeTensorsException>(() => b.Load(P("m.safetensors")));
        Assert.Contains("missing", ex.Message);
    }

    [Fact]
    public void ParameterSet_ScalarAndModules_RoundTrip()
    {
        var set = new ParameterSet().Add("actor", new Mlp(3, [4], 2, new Rng(1))).Add("log_alpha", Tensor.Scalar(-1.25f, true));
        set.Save(P("s.safetensors"));
        var loaded = SafeTensors.Load(P("s.safetensors"));
        Assert.Equal(-1.25f, loaded["log_alpha"].Item());
        Assert.Empty(loaded["log_alpha"].Shape);
        Assert.True(loaded.ContainsKey("actor.0.weight"));
    }
}
