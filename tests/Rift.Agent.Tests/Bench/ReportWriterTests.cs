using System.Text.RegularExpressions;
using Rift.Agent.Bench;
using Rift.Agent.Online;
using Rift.Learning;

namespace Rift.Agent.Tests.Bench;

public class ReportWriterTests
{
    private static AgentBenchResult Fake()
    {
        var profile = new AgentBenchProfile("quick", ["push"], [0, 1, 2], 4, 2, 5);
        var conditions = AgentBenchProfile.AllConditions.Where(c => c.Key is "hil" or "rift").ToList();
        double[] hilIr = [0.30, 0.34, 0.38], riftIr = [0.12, 0.15, 0.18], hilSr = [0.6, 0.8, 0.7], riftSr = [0.8, 0.8, 0.9];
        var runs = new List<BenchRun>();
        for (var s = 0; s < 3; s++)
        {
            runs.Add(Run("hil", s, hilSr[s], hilIr[s], null));
            var trace = new ValueTrace(2, true,
                [0.2f, 0.3f, 0.3f, 0.25f, 0.22f, 0.2f, 0.19f, 0.21f, 0.3f, 0.5f, 0.7f, 0.9f],
                [Controller.Policy, Controller.Policy, Controller.Policy, Controller.Policy, Controller.Policy, Controller.Policy, Controller.Policy,
                 Controller.Agent, Controller.Agent, Controller.Agent, Controller.Policy, Controller.Policy],
                [0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.35, 0.5, 0.7, 0.9, 1.0], [6], [9], []);
            runs.Add(Run("rift", s, riftSr[s], riftIr[s], trace));
        }
        return new AgentBenchResult { Profile = profile, Conditions = conditions, Runs = runs, Directory = "unused", WallSeconds = 12 };

        static BenchRun Run(string c, int seed, double sr, double ir, ValueTrace? trace)
        {
            var lines = Enumerable.Range(0, 4).Select(e => new EpisodeLine(e, e, 50, e % 2 == 0, "success", 5, 3, 1, 1, 1, 0, 1, 2,
                ir, 0.5, e % 2 == 1 ? sr : null, 0.1, 0.2, e)).ToList();
            return new BenchRun("push", seed, c, new Dictionary<string, double>
            {
                ["online/sr_eval"] = sr,
                ["online/human_ir_step"] = ir,
                ["online/agent_takeover_rate"] = c == "rift" ? 0.2 : 0,
            }, lines, trace is null ? [] : [trace], "unused");
        }
    }

    [Fact]
    public void Metrics_KnownRuns_MeansAndIrReduction()
    {
        var m = Fake().Metrics();
        Assert.Equal(0.70, m["agent/hil_sr"], 9);
        Assert.Equal(0.34, m["agent/hil_human_ir_step"], 9);
        Assert.Equal(0.15, m["agent/rift_human_ir_step"], 9);
        Assert.Equal(1 - 0.15 / 0.34, m["agent/ir_reduction"], 9);
        Assert.Equal(0.2, m["agent/rift_takeover_rate"], 9);
        Assert.Equal(4.303 * 0.04 / Math.Sqrt(3), m["agent/hil_human_ir_step_ci95"], 9);
    }

    [Fact]
    public void Markdown_KnownRuns_TableWithPercentMeanAndCi()
    {
        var r = Fake();
        var md = ReportWriter.Markdown(r, r.Metrics(), "./rift bench agent --profile quick");
        var rows = md.Split('\n').Where(l => l.StartsWith('|')).ToList();
        Assert.Equal(4, rows.Count); // header, separator, hil, rift
        Assert.All(rows, row => Assert.Equal(7, row.Count(ch => ch == '|'))); // condition, SR, IR, average SR, average IR, takeover
        var hil = rows.Single(l => l.StartsWith("| HiL-SERL |"));
        Assert.Contains($"34.0 ± {100 * 4.303 * 0.04 / Math.Sqrt(3):0.0}", hil);
        Assert.Contains("70.0 ±", hil);
        Assert.Contains("Human IR reduction (1 − Rift / HiL): **55.9%**", md);
        Assert.Contains("./rift bench agent --profile quick", md);
    }

    [Fact]
    public void Html_KnownRuns_BalancedTagsPlotsAndTrace()
    {
        var r = Fake();
        var html = ReportWriter.Html(r, r.Metrics(), "./rift bench agent");
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("<script", html);
        foreach (var tag in new[] { "svg", "table", "tr", "h2", "html", "body" })
            Assert.Equal(Regex.Matches(html, $"<{tag}[ >]").Count, Regex.Matches(html, $"</{tag}>").Count);
        Assert.Equal(2 + 3, Regex.Matches(html, "<svg ").Count); // SR curve, IR curve, 3 example traces (one per seed)
        Assert.Contains("polyline", html);
        Assert.Contains("first trigger at step 6; lowest value in the 8 steps before it at step 6", html);
    }

    [Fact]
    public void TriggerVsMinimum_MinimumBeforeTrigger_ReportsItsStep()
    {
        var t = new ValueTrace(0, false, [0.5f, 0.4f, 0.1f, 0.2f, 0.25f], [Controller.Policy, Controller.Policy, Controller.Policy, Controller.Policy, Controller.Policy], [], [4], [], []);
        Assert.Equal((4, 2), ReportWriter.TriggerVsMinimum(t));
    }
}
