using System.Text;
using System.Text.Json;
using Rift.Agent.Tests.Cli;

namespace Rift.Agent.Tests.Bridge;

[Collection("Console")]
public sealed class SimClientCommandTests
{
    [Fact]
    public async Task SimClient_PushWithCompare_BridgeMetricsEqualInProcess()
    {
        var dir = Directory.CreateTempSubdirectory("rift-simclient-").FullName;
        try
        {
            var json = Path.Combine(dir, "m.json");
            var (code, _, err) = await ProgramTests.Run("robot", "sim-client", "--task", "push", "--episodes", "2", "--eval-episodes", "1", "--seed", "4",
                "--compare", "--json", json, $"--Bridge:EventLogDirectory={dir}",
                "--Arbitration:DecisionDeadlineMs=0"); // a wall-clock deadline missed under test load would be the only difference
            Assert.True(code == 0, err);
            var m = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("metrics");
            Assert.Equal(2, m.GetProperty("online/episodes").GetDouble());
            Assert.True(m.GetProperty("online/steps").GetDouble() > 0);
            Assert.True(m.GetProperty("bridge/max_abs_diff").GetDouble() == 0, m.ToString());
            foreach (var key in new[] { "online/synthetic_estops", "online/recoveries_succeeded", "online/escalations", "online/human_interventions", "online/human_ir_step", "online/sr_eval" })
                Assert.Equal(m.GetProperty("inprocess/" + key).GetDouble(), m.GetProperty(key).GetDouble());
            Assert.Single(Directory.GetFiles(dir, "events-sim-client-*.jsonl"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
