using System.Text.Json;
using Rift.Agent.Tests.Cli;
using Rift.Agent.Tests.Online;

namespace Rift.Agent.Tests.Bridge;

/// <summary>The <c>--run</c> options of <c>rift serve</c> and <c>rift robot sim-client</c> on a tiny trained run.</summary>
[Collection("Console")]
public sealed class ServeRunCommandTests(TinyRunFixture run) : IClassFixture<TinyRunFixture>
{
    [Fact]
    public async Task SimClient_RunWithCompare_BridgeEqualsInProcess()
    {
        var json = Path.Combine(run.Root, "m.json");
        var (code, _, err) = await ProgramTests.Run("robot", "sim-client", "--task", "push", "--episodes", "2", "--eval-episodes", "1", "--seed", "3",
            "--run", run.RunDirectory, "--compare", "--json", json, $"--Bridge:EventLogDirectory={Path.Combine(run.Root, "cli-logs")}");
        Assert.True(code == 0, err);
        var m = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("metrics");
        Assert.Equal(2, m.GetProperty("online/episodes").GetDouble());
        Assert.True(m.GetProperty("bridge/max_abs_diff").GetDouble() == 0, m.ToString());
    }

    [Fact]
    public async Task SimClient_RunOfAnotherTask_ExitsNamingTheTasks()
    {
        var (code, output, err) = await ProgramTests.Run("robot", "sim-client", "--task", "pick-place", "--episodes", "1", "--run", run.RunDirectory);
        Assert.Equal(1, code);
        Assert.Contains("trained task 'push', not 'pick-place'", output + err);
    }

    [Fact]
    public async Task Serve_RunWithoutCheckpoint_ExitsBeforeListening()
    {
        var dir = run.Copy("serve-no-checkpoint");
        File.Delete(Path.Combine(dir, "checkpoints", "latest"));
        var (code, output, err) = await ProgramTests.Run("serve", "--run", dir, "--Bridge:Urls=http://127.0.0.1:0");
        Assert.Equal(1, code);
        Assert.Contains("has no checkpoint", output + err);
    }
}
