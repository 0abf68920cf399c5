using System.Text.Json;
using Rift.Agent.Bridge;
using Rift.Agent.Events;
using Rift.Agent.Online;
using Rift.Sim.Supervisors;

namespace Rift.Agent.Tests.Cli;

public class RiftJsonTests
{
    private sealed record Sample(OnlineMethod Method, SupervisorTriggers Triggers, double Loss, string? Note);

    [Fact]
    public void Serialize_EnumsFlagsAndNaN_SnakeCaseRoundTrip()
    {
        var json = JsonSerializer.Serialize(new Sample(OnlineMethod.RiftNoAgent, SupervisorTriggers.ValueGap | SupervisorTriggers.Stuck, double.NaN, null), RiftJson.SnakeCase);

        Assert.Equal("{\"method\":\"rift_no_agent\",\"triggers\":\"value_gap, stuck\",\"loss\":\"NaN\"}", json);
        var back = JsonSerializer.Deserialize<Sample>(json, RiftJson.SnakeCase)!;
        Assert.Equal(OnlineMethod.RiftNoAgent, back.Method);
        Assert.Equal(SupervisorTriggers.ValueGap | SupervisorTriggers.Stuck, back.Triggers);
        Assert.True(double.IsNaN(back.Loss));
    }

    [Theory]
    [InlineData("{\"method\":\"rift-no-agent\",\"triggers\":\"value-gap, stuck, unsafe\",\"loss\":1}")] // run folders written with kebab-case enums
    [InlineData("{\"method\":\"RiftNoAgent\",\"triggers\":\"ValueGap,Stuck,Unsafe\",\"loss\":1}")]
    public void Deserialize_OlderEnumSpellings_Read(string json)
    {
        var s = JsonSerializer.Deserialize<Sample>(json, RiftJson.SnakeCase)!;
        Assert.Equal(OnlineMethod.RiftNoAgent, s.Method);
        Assert.Equal(SupervisorTriggers.ValueGap | SupervisorTriggers.Stuck | SupervisorTriggers.Unsafe, s.Triggers);
    }

    [Theory]
    [InlineData("{\"method\":2}")]
    [InlineData("{\"method\":\"warp_drive\"}")]
    [InlineData("{\"method\":\"\"}")]
    public void Deserialize_IntegerOrUnknownEnum_Throws(string json)
    {
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Sample>(json, RiftJson.SnakeCase));
        Assert.Contains("rift_no_agent", e.Message); // names the known values
    }

    [Fact]
    public void Options_EventLogAndBridge_UseRiftJson()
    {
        Assert.Same(RiftJson.SnakeCase, EventJson.Options);
        Assert.Same(RiftJson.SnakeCase.PropertyNamingPolicy, BridgeProtocol.Json.PropertyNamingPolicy);
        Assert.Equal(RiftJson.SnakeCase.Converters.Select(c => c.GetType()), BridgeProtocol.Json.Converters.Select(c => c.GetType()));
        Assert.Equal(16, BridgeProtocol.Json.MaxDepth);
    }
}
