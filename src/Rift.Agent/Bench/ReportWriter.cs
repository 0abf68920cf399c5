using System.Globalization;
using System.Net;
using System.Text;
using Rift.Agent.Online;
using Rift.Learning;

namespace Rift.Agent.Bench;

/// <summary>Writes the agent benchmark's Markdown table and HTML report (inline SVG plots, no scripts).</summary>
public static class ReportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] Palette = ["#7f7f7f", "#1f77b4", "#9467bd", "#d62728", "#2ca02c", "#ff7f0e", "#8c564b", "#17becf"];

    /// <summary>"62 ± 8" in percent.</summary>
    public static string Percent(MeanCi m) =>
        m.N == 0 || double.IsNaN(m.Mean) ? "–"
        : m.N == 1 || double.IsNaN(m.HalfWidth) ? (100 * m.Mean).ToString("0.0", Inv)
        : $"{(100 * m.Mean).ToString("0.0", Inv)} ± {(100 * m.HalfWidth).ToString("0.0", Inv)}";

    /// <summary>The UniIntervene-style table: SR / human IR (step) per task and on average, mean ± 95% CI over seeds, in %.</summary>
    public static string MarkdownTable(AgentBenchResult r)
    {
        var sb = new StringBuilder();
        sb.Append("| condition |");
        foreach (var t in r.Profile.Tasks) sb.Append($" {t} SR | {t} IR |");
        sb.AppendLine(" average SR | average IR | agent takeover |");
        sb.Append("|---|");
        foreach (var _ in r.Profile.Tasks) sb.Append("---:|---:|");
        sb.AppendLine("---:|---:|---:|");
        foreach (var c in r.Conditions)
        {
            sb.Append($"| {c.Label} |");
            foreach (var t in r.Profile.Tasks) sb.Append($" {Percent(r.Sr(c.Key, t))} | {Percent(r.HumanIr(c.Key, t))} |");
            sb.AppendLine($" {Percent(r.Sr(c.Key))} | {Percent(r.HumanIr(c.Key))} | {Percent(r.Stat(c.Key, "online/agent_takeover_rate"))} |");
        }
        return sb.ToString();
    }

    public static string Markdown(AgentBenchResult r, IReadOnlyDictionary<string, double> metrics, string command)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# Rift agent benchmark — {r.Profile.Name} profile");
        sb.AppendLine();
        sb.AppendLine($"Tasks: {string.Join(", ", r.Profile.Tasks)}; seeds: {string.Join(", ", r.Profile.Seeds)}; {r.Profile.Episodes} training episodes per run; " +
                      $"SR = deterministic evaluation without interventions on {r.Profile.EvalEpisodes} held-out episodes after training; " +
                      "IR = human-controlled steps ÷ all training steps. Mean ± 95% CI over seeds, in %.");
        sb.AppendLine();
        sb.Append(MarkdownTable(r));
        sb.AppendLine();
        if (metrics.TryGetValue("agent/ir_reduction", out var red))
            sb.AppendLine($"Human IR reduction (1 − Rift / HiL): **{(100 * red).ToString("0.0", Inv)}%**; SR Rift {Fmt(metrics, "agent/rift_sr")} vs HiL {Fmt(metrics, "agent/hil_sr")}.");
        sb.AppendLine();
        sb.AppendLine($"Wall time {metrics.GetValueOrDefault("agent/wall_s").ToString("0", Inv)} s. Reproduce: `{command}`");
        return sb.ToString();
    }

    private static string Fmt(IReadOnlyDictionary<string, double> m, string k) => m.TryGetValue(k, out var v) && double.IsFinite(v) ? v.ToString("0.00", Inv) : "–";

    public static string Html(AgentBenchResult r, IReadOnlyDictionary<string, double> metrics, string command)
    {
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Rift agent benchmark</title><style>");
        sb.AppendLine("body{font-family:sans-serif;max-width:1150px;margin:20px auto;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}h2{margin-top:28px}.note{color:#555;font-size:13px}svg{background:#fff}");
        sb.AppendLine("</style></head><body>");
        sb.AppendLine($"<h1>Rift agent benchmark — {Enc(r.Profile.Name)} profile</h1>");
        sb.AppendLine($"<p class=\"note\">Tasks {Enc(string.Join(", ", r.Profile.Tasks))}; seeds {Enc(string.Join(", ", r.Profile.Seeds))}; {r.Profile.Episodes} training episodes per run. " +
                      "SR: deterministic policy, no interventions, held-out seeds, after training. IR: human-controlled steps ÷ training steps. Mean ± 95% CI over seeds, %.</p>");
        sb.AppendLine("<table><tr><th>condition</th>");
        foreach (var t in r.Profile.Tasks) sb.Append($"<th>{Enc(t)} SR</th><th>{Enc(t)} IR</th>");
        sb.AppendLine("<th>average SR</th><th>average IR</th><th>agent takeover</th></tr>");
        foreach (var c in r.Conditions)
        {
            sb.Append($"<tr><td>{Enc(c.Label)}</td>");
            foreach (var t in r.Profile.Tasks) sb.Append($"<td>{Percent(r.Sr(c.Key, t))}</td><td>{Percent(r.HumanIr(c.Key, t))}</td>");
            sb.AppendLine($"<td>{Percent(r.Sr(c.Key))}</td><td>{Percent(r.HumanIr(c.Key))}</td><td>{Percent(r.Stat(c.Key, "online/agent_takeover_rate"))}</td></tr>");
        }
        sb.AppendLine("</table>");
        if (metrics.TryGetValue("agent/ir_reduction", out var red))
            sb.AppendLine($"<p>Human IR reduction (1 − Rift / HiL): <b>{(100 * red).ToString("0.0", Inv)}%</b>; SR Rift {Fmt(metrics, "agent/rift_sr")} vs HiL {Fmt(metrics, "agent/hil_sr")}.</p>");

        // Curves across training, averaged over tasks and seeds.
        var srSeries = new List<Series>();
        var irSeries = new List<Series>();
        for (var i = 0; i < r.Conditions.Count; i++)
        {
            var c = r.Conditions[i];
            var runs = r.Runs.Where(x => x.Condition == c.Key).ToList();
            if (runs.Count == 0) continue;
            var color = Palette[i % Palette.Length];
            var evalPts = runs.SelectMany(x => x.Episodes.Where(e => e.SrEval is not null).Select(e => (X: (double)e.Episode + 1, Y: e.SrEval!.Value)))
                .GroupBy(p => p.X).OrderBy(g => g.Key).Select(g => (g.Key, g.Average(p => p.Y))).ToList();
            srSeries.Add(new Series(c.Label, color, evalPts, false, true));
            var irPts = runs.SelectMany(x => x.Episodes.Select(e => (X: (double)e.Episode + 1, Y: e.CumHumanIrStep)))
                .GroupBy(p => p.X).OrderBy(g => g.Key).Select(g => (g.Key, g.Average(p => p.Y))).ToList();
            irSeries.Add(new Series(c.Label, color, irPts, false, false));
        }
        sb.AppendLine("<h2>Success rate across training</h2><p class=\"note\">Deterministic evaluation without interventions, mean over tasks and seeds.</p>");
        sb.AppendLine(Plot(srSeries, "training episodes", "SR", 0, 1, 1100, 320, null));
        sb.AppendLine("<h2>Human intervention rate across training</h2><p class=\"note\">Cumulative human-controlled steps ÷ steps, mean over tasks and seeds.</p>");
        sb.AppendLine(Plot(irSeries, "training episodes", "human IR (step)", 0, Math.Max(0.05, irSeries.SelectMany(s => s.Points).Select(p => p.Y).DefaultIfEmpty(0.1).Max() * 1.1), 1100, 320, null));

        // Value traces of example episodes (Rift under the takeover supervisor).
        sb.AppendLine("<h2>Value traces: stagnation → trigger → recovery → success</h2>");
        sb.AppendLine("<p class=\"note\">Critic value q (as the trigger saw it, blue) and oracle progress Φ (privileged, for the plot only; dashed); " +
                      "orange band: recovery policy in control; red band: human in control; red line: synthetic e-stop (trigger); green line: hand-back after a recovery.</p>");
        if (metrics.TryGetValue("agent/rift_trigger_after_min_median", out var afterMin))
            sb.AppendLine($"<p class=\"note\">Over all {metrics.GetValueOrDefault("agent/rift_triggers").ToString("0", Inv)} synthetic e-stops of the Rift runs: " +
                          $"the trigger fired a median {afterMin.ToString("0", Inv)} step(s) after the lowest value of the preceding 8; " +
                          $"{(100 * metrics.GetValueOrDefault("agent/rift_trigger_near_min_rate")).ToString("0", Inv)}% within 2 steps of it.</p>");
        foreach (var (run, trace) in ExampleTraces(r, 3))
        {
            var (trig, minStep) = TriggerVsMinimum(trace);
            sb.AppendLine($"<h3>{Enc(run.Task)}, seed {run.Seed}, episode {trace.Episode} — {(trace.Success ? "success" : "failure")}</h3>");
            if (trig >= 0) sb.AppendLine($"<p class=\"note\">first trigger at step {trig}; lowest value in the 8 steps before it at step {minStep} ({trig - minStep} step(s) earlier).</p>");
            sb.AppendLine(TracePlot(trace));
        }
        sb.AppendLine($"<p class=\"note\">Wall time {metrics.GetValueOrDefault("agent/wall_s").ToString("0", Inv)} s. Reproduce: <code>{Enc(command)}</code></p>");
        sb.AppendLine("</body></html>");
        return sb.ToString();
    }

    /// <summary>Example traces, best first: trigger, recovered hand-back, success, no human.</summary>
    public static IEnumerable<(BenchRun Run, ValueTrace Trace)> ExampleTraces(AgentBenchResult r, int count) =>
        r.Runs.Where(x => x.Condition == "rift").SelectMany(x => x.Traces.Select(t => (Run: x, Trace: t)))
            .OrderByDescending(p => (p.Trace.HandBackSteps.Length > 0 ? 4 : 0) + (p.Trace.Success ? 2 : 0) + (p.Trace.HumanSteps.Length == 0 ? 1 : 0))
            .ThenBy(p => p.Run.Seed).ThenBy(p => p.Trace.Episode)
            .Take(count);

    /// <summary>The first trigger step and the step of the lowest value among the 8 steps up to it.</summary>
    public static (int Trigger, int MinStep) TriggerVsMinimum(ValueTrace t)
    {
        if (t.TriggerSteps.Length == 0) return (-1, -1);
        var trig = t.TriggerSteps[0];
        var best = trig;
        var min = float.PositiveInfinity;
        for (var s = Math.Max(0, trig - 7); s <= trig && s < t.Values.Length; s++)
            if (t.Values[s] is { } v && v < min)
            {
                min = v;
                best = s;
            }
        return (trig, best);
    }

    private sealed record Series(string Name, string Color, List<(double X, double Y)> Points, bool Dashed, bool Markers);

    private static string Plot(List<Series> series, string xLabel, string yLabel, double yMin, double yMax, int w, int h, Action<StringBuilder, Func<double, double>, Func<double, double>>? background)
    {
        const int left = 60, right = 330, top = 15, bottom = 40;
        var xs = series.SelectMany(s => s.Points).Select(p => p.X).DefaultIfEmpty(1).ToList();
        double xMin = Math.Min(0, xs.Min()), xMax = Math.Max(xs.Max(), xMin + 1);
        double X(double x) => left + (x - xMin) / (xMax - xMin) * (w - left - right);
        double Y(double y) => top + (1 - (y - yMin) / (yMax - yMin)) * (h - top - bottom);
        var sb = new StringBuilder();
        sb.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-size=\"12\">");
        background?.Invoke(sb, X, Y);
        for (var i = 0; i <= 4; i++)
        {
            var yv = yMin + i * (yMax - yMin) / 4;
            sb.AppendLine($"<line x1=\"{left}\" x2=\"{w - right}\" y1=\"{N(Y(yv))}\" y2=\"{N(Y(yv))}\" stroke=\"#eee\"/><text x=\"{left - 6}\" y=\"{N(Y(yv) + 4)}\" text-anchor=\"end\">{yv.ToString("0.##", Inv)}</text>");
        }
        for (var i = 0; i <= 5; i++)
        {
            var xv = xMin + i * (xMax - xMin) / 5;
            sb.AppendLine($"<text x=\"{N(X(xv))}\" y=\"{h - bottom + 16}\" text-anchor=\"middle\">{xv.ToString("0", Inv)}</text>");
        }
        sb.AppendLine($"<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{h - bottom}\" stroke=\"#333\"/><line x1=\"{left}\" x2=\"{w - right}\" y1=\"{h - bottom}\" y2=\"{h - bottom}\" stroke=\"#333\"/>");
        sb.AppendLine($"<text x=\"{(left + w - right) / 2}\" y=\"{h - 6}\" text-anchor=\"middle\">{Enc(xLabel)}</text>");
        sb.AppendLine($"<text x=\"14\" y=\"{(top + h - bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {(top + h - bottom) / 2})\">{Enc(yLabel)}</text>");
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.Points.Count == 0) continue;
            var pts = string.Join(' ', s.Points.Select(p => $"{N(X(p.X))},{N(Y(Math.Clamp(p.Y, yMin, yMax)))}"));
            sb.AppendLine($"<polyline fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"5,4\"" : "")} points=\"{pts}\"/>");
            if (s.Markers)
                foreach (var p in s.Points) sb.AppendLine($"<circle cx=\"{N(X(p.X))}\" cy=\"{N(Y(Math.Clamp(p.Y, yMin, yMax)))}\" r=\"3\" fill=\"{s.Color}\"/>");
            var ly = top + 10 + i * 18;
            sb.AppendLine($"<line x1=\"{w - right + 15}\" x2=\"{w - right + 40}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{s.Color}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"5,4\"" : "")}/><text x=\"{w - right + 46}\" y=\"{ly + 4}\">{Enc(s.Name)}</text>");
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static string TracePlot(ValueTrace t)
    {
        var q = new List<(double, double)>();
        for (var s = 0; s < t.Values.Length; s++)
            if (t.Values[s] is { } v) q.Add((s, v));
        var phi = t.Progress.Select((p, s) => ((double)s, p)).ToList();
        var yMin = Math.Min(0, q.Select(p => p.Item2).DefaultIfEmpty(0).Min());
        var yMax = Math.Max(1, q.Select(p => p.Item2).DefaultIfEmpty(1).Max());
        var series = new List<Series> { new("critic value q", "#1f77b4", q, false, false), new("progress Φ (oracle)", "#555", phi, true, false) };
        return Plot(series, "step", "value / progress", yMin, yMax, 1100, 260, (sb, X, Y) =>
        {
            for (var s = 0; s < t.Controllers.Length; s++)
            {
                var c = t.Controllers[s];
                if (c == Controller.Policy) continue;
                var color = c == Controller.Agent ? "#ffd8a8" : "#ffc9c9";
                sb.AppendLine($"<rect x=\"{N(X(s))}\" y=\"{N(Y(yMax))}\" width=\"{N(X(s + 1) - X(s))}\" height=\"{N(Y(yMin) - Y(yMax))}\" fill=\"{color}\"/>");
            }
            foreach (var s in t.TriggerSteps) sb.AppendLine($"<line x1=\"{N(X(s))}\" x2=\"{N(X(s))}\" y1=\"{N(Y(yMax))}\" y2=\"{N(Y(yMin))}\" stroke=\"#d62728\" stroke-width=\"2\"/>");
            foreach (var s in t.HandBackSteps) sb.AppendLine($"<line x1=\"{N(X(s))}\" x2=\"{N(X(s))}\" y1=\"{N(Y(yMax))}\" y2=\"{N(Y(yMin))}\" stroke=\"#2ca02c\" stroke-width=\"2\" stroke-dasharray=\"4,3\"/>");
        });
    }

    private static string N(double v) => v.ToString("0.#", Inv);
    private static string Enc(string s) => WebUtility.HtmlEncode(s);
}
