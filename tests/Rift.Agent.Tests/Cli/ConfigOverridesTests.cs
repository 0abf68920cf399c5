using Rift.Agent.Cli;

namespace Rift.Agent.Tests.Cli;

public class ConfigOverridesTests
{
    [Fact]
    public void Split_KeyEqualsValueAndSeparateValue_BothExtracted()
    {
        var (rest, overrides) = ConfigOverrides.Split(["bench", "nn", "--Sac:Tau=0.01", "--json", "x.json", "--Risk:Window", "8"]);
        Assert.Equal(["bench", "nn", "--json", "x.json"], rest);
        Assert.Equal("0.01", overrides["Sac:Tau"]);
        Assert.Equal("8", overrides["risk:window"]);
    }

    [Fact]
    public void Split_KeyWithoutValue_ThrowsNamingKey()
    {
        var e = Assert.Throws<ConfigurationKeyException>(() => ConfigOverrides.Split(["--Sac:Tau"]));
        Assert.Equal("Sac:Tau", e.Key);
    }
}
