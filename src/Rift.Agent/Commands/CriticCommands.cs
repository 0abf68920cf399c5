using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Rift.Agent.Bench;
using Rift.Agent.Cli;
using Rift.Learning;
using Rift.Nn;
using Rift.Sim;
using Rift.ValueCritic;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift train encoder</c>, <c>rift train critic</c> and <c>rift eval trigger</c> (docs/critic.md).</summary>
public sealed class CriticCommands : ICommandProvider
{
    public void Register(CliTree tree)
    {
        var train = tree.Group("train");
        train.Subcommands.Add(TrainEncoderCommand());
        train.Subcommands.Add(TrainCriticCommand());
        tree.Group("eval").Subcommands.Add(EvalTriggerCommand());
        tree.Group("bench").Subcommands.Add(BenchCriticCommand());
        tree.Group("bench").Subcommands.Add(BenchTriggerCommand());
    }

    private static Command BenchCriticCommand()
    {
        var task = CommonOptions.Task();
        var json = CommonOptions.Json();
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions (median of each statistic reported).", DefaultValueFactory = _ => 5 };
        var cmd = new Command("critic", "Latency: critic/step_p99_us (1024-d embedding, predictor + value heads + learned trigger) and encoder/frame_ms_128, one thread.") { task, json, repeats };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            var co = host.Options<CriticOptions>();
            var lo = host.Options<LearnedTriggerOptions>();
            var sim = host.Options<SimOptions>();
            var t = CommonOptions.TaskValue(parse, task);
            var reps = Math.Max(1, parse.GetValue(repeats));
            var encoder = LoadEncoder(t);
            var p99 = new List<double>();
            var p50 = new List<double>();
            var enc = new List<double>();
            AnsiConsole.Progress().Start(ctx =>
            {
                var bar = ctx.AddTask("bench critic", maxValue: reps);
                for (var i = 0; i < reps; i++)
                {
                    var (a, b) = CriticStepUs(co, lo);
                    p99.Add(a);
                    p50.Add(b);
                    enc.Add(EncoderFrameMs(encoder, sim, t));
                    bar.Increment(1);
                }
            });
            static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
            var metrics = new Dictionary<string, double>
            {
                ["critic/step_p99_us"] = Median(p99),
                ["critic/step_p50_us"] = Median(p50),
                ["encoder/frame_ms_128"] = Median(enc),
            };
            var table = new Table().AddColumns("metric", "median over repeats", "all", "target");
            table.AddRow("critic/step_p99_us", metrics["critic/step_p99_us"].ToString("F1", CultureInfo.InvariantCulture), string.Join(" ", p99.Select(x => x.ToString("F0", CultureInfo.InvariantCulture))), "≤ 200");
            table.AddRow("critic/step_p50_us", metrics["critic/step_p50_us"].ToString("F1", CultureInfo.InvariantCulture), string.Join(" ", p50.Select(x => x.ToString("F0", CultureInfo.InvariantCulture))), "");
            table.AddRow("encoder/frame_ms_128", metrics["encoder/frame_ms_128"].ToString("F3", CultureInfo.InvariantCulture), string.Join(" ", enc.Select(x => x.ToString("F2", CultureInfo.InvariantCulture))), "≤ 5");
            AnsiConsole.Write(table);
            var path = parse.GetValue(json);
            if (path is not null) JsonMetrics.Write(path, metrics);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Metrics summarised over seeds by <c>bench trigger</c>; margins are paired per seed.</summary>
    private static readonly string[] SeedMetrics =
    [
        "trigger/f1", "trigger/precision", "trigger/recall", "trigger/f1_failure_classifier", "trigger/f1_value_threshold",
        "trigger/f1_no_future", "trigger/f1_rules", "trigger/f1_rules_no_future", "oracle/f1_fire_on_labels", "oracle/f1_realised_future",
        "critic/q_loss", "trigger/events", "trigger/label_rate", "rollout/base_sr",
    ];

    private static readonly (string Key, string Baseline)[] Margins =
    [
        ("trigger/margin_failure_classifier", "trigger/f1_failure_classifier"),
        ("trigger/margin_value_threshold", "trigger/f1_value_threshold"),
        ("trigger/margin_no_future", "trigger/f1_no_future"),
    ];

    private static Command BenchTriggerCommand()
    {
        var task = CommonOptions.Task();
        var json = CommonOptions.Json();
        var episodes = CommonOptions.Episodes(80);
        var seeds = new Option<int>("--seeds") { Description = "Training seeds 0..N−1; seed S is evaluated on held-out seed S.", DefaultValueFactory = _ => 5 };
        var cmd = new Command("trigger",
            "Trigger F1 over seeds: `train critic --seed S` then `eval trigger --seed S` for S = 0..N−1 (models under runs/), mean ± 95% CI and paired margins.")
        { task, json, episodes, seeds };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            var t = CommonOptions.TaskValue(parse, task);
            var settings = CriticSettings.From(host, t);
            var n = CommonOptions.PositiveValue(parse, episodes);
            var count = CommonOptions.PositiveValue(parse, seeds);
            var dir = RiftPaths.NewRunDirectory(RiftPaths.Runs, $"bench-trigger__{t}");
            var perSeed = new List<Dictionary<string, double>>();
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn()).Start(ctx =>
            {
                var bar = ctx.AddTask($"seeds {t}", maxValue: count);
                for (var s = 0; s < count; s++)
                {
                    var modelDir = Path.Combine(dir, $"seed{s}");
                    Directory.CreateDirectory(modelDir);
                    JsonMetrics.Write(Path.Combine(modelDir, "train.json"), TrainCritic(t, s, settings, modelDir, ctx));
                    var m = EvalTrigger(t, s, n, settings, modelDir, ctx);
                    JsonMetrics.Write(Path.Combine(modelDir, "eval.json"), m);
                    perSeed.Add(m);
                    bar.Increment(1);
                }
            });
            var summary = new Dictionary<string, double>();
            var table = new Table().AddColumns("metric", "mean ± 95% CI", "per seed", "target");
            void Row(string key, IReadOnlyList<double> values, string target)
            {
                var ci = Stats.MeanCi95(values);
                summary[key] = ci.Mean;
                summary[key + "_ci95"] = ci.HalfWidth;
                table.AddRow(key, ci.Format("0.000"), string.Join(" ", values.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture))), target);
            }
            foreach (var k in SeedMetrics) Row(k, perSeed.Select(m => m[k]).ToList(), Target(k));
            foreach (var (k, b) in Margins) Row(k, perSeed.Select(m => m["trigger/f1"] - m[b]).ToList(), "≥ 0.05");
            summary["seeds"] = count;
            summary["episodes_per_seed"] = n;
            AnsiConsole.Write(table);
            var extra = new Dictionary<string, JsonNode?>
            {
                ["task"] = t,
                ["per_seed"] = new JsonArray(perSeed.Select(m => (JsonNode?)new JsonObject(m.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))))).ToArray()),
            };
            JsonMetrics.Write(Path.Combine(dir, "summary.json"), summary, extra);
            var path = parse.GetValue(json);
            if (path is not null) JsonMetrics.Write(path, summary, extra);
            AnsiConsole.MarkupLine($"models and per-seed results in [green]{Markup.Escape(dir)}[/]");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static SimOptions FrameOptions(SimOptions o) => new()
    {
        RenderFrames = true,
        FrameSize = 128,
        Camera = o.Camera,
        RenderBackend = o.RenderBackend,
        ControlHz = o.ControlHz,
        ActionScale = o.ActionScale,
        MaxEpisodeSteps = o.MaxEpisodeSteps,
        ModelsDirectory = o.ModelsDirectory,
    };

    private static SimOptions NoFrameOptions(SimOptions o)
    {
        var f = FrameOptions(o);
        f.RenderFrames = false;
        return f;
    }

    // ------------------------------------------------------------------ train encoder

    private static Command TrainEncoderCommand()
    {
        var task = CommonOptions.Task();
        var seed = CommonOptions.Seed();
        var output = new Option<string?>("--out") { Description = "Weights file (default models/encoder/{task}.safetensors; a model card .md is written beside it)." };
        var cmd = new Command("encoder", "Train the built-in conv frame encoder on simulated frames (time-contrastive InfoNCE).") { task, seed, output };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            var o = host.Options<ConvEncoderOptions>();
            var sim = host.Options<SimOptions>();
            var t = CommonOptions.TaskValue(parse, task);
            var baseOpts = host.Options<PerturbedExpertOptions>().ForTask(t);
            var s = parse.GetValue(seed);
            var path = parse.GetValue(output) ?? ConvFrameEncoder.DefaultPath(t);
            var sw = Stopwatch.StartNew();
            var frames = new List<IReadOnlyList<byte[]>>();
            var losses = new List<float>();
            var net = new ConvEncoderNetwork(o.InputSize, o.Width, o.EmbeddingSize, new Rng(s));
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn()).Start(ctx =>
            {
                var collect = ctx.AddTask($"frames {t}", maxValue: o.Episodes);
                using (var env = SimTasks.Create(t, FrameOptions(sim)))
                {
                    var collector = new RolloutCollector(env, () => SimTasks.CreateExpert(t, sim), baseOpts) { FrameSize = o.InputSize };
                    for (var e = 0; e < o.Episodes; e++)
                    {
                        var kind = e % 2 == 0 ? RolloutKind.Expert : RolloutKind.Base;
                        frames.Add(collector.Run(kind, 1_000_000 + s * 10_000 + e).Frames);
                        collect.Increment(1);
                    }
                }
                var fit = ctx.AddTask("time-contrastive", maxValue: o.Steps);
                var trainer = new EncoderTrainer(net, o, s);
                for (var i = 0; i < o.Steps; i++)
                {
                    losses.Add(trainer.Update(frames));
                    fit.Increment(1);
                    if (i % 20 == 0) fit.Description = $"time-contrastive loss {losses.Skip(Math.Max(0, losses.Count - 20)).Average():F3}";
                }
            });
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var meta = net.Metadata();
            meta["task"] = t;
            meta["seed"] = s.ToString(CultureInfo.InvariantCulture);
            meta["objective"] = "time-contrastive InfoNCE";
            net.Save(path, meta);
            var first = losses.Take(20).Average();
            var last = losses.Skip(Math.Max(0, losses.Count - 50)).Average();
            var frameCount = frames.Sum(f => f.Count);
            var card = new StringBuilder();
            card.AppendLine(CultureInfo.InvariantCulture, $"# Frame encoder: {t}");
            card.AppendLine();
            card.AppendLine(CultureInfo.InvariantCulture, $"- Weights: `{Path.GetFileName(path)}` (safetensors; metadata holds the architecture)");
            card.AppendLine(CultureInfo.InvariantCulture, $"- Architecture: 128×128 RGB frame → 2×2 area mean → {o.InputSize}×{o.InputSize}, [−1, 1]; 4 conv 4×4 stride 2 pad 1 + ReLU (channels {string.Join("-", net.Channels.Skip(1))}); linear {net.FeatureSize} → {o.EmbeddingSize}");
            card.AppendLine(CultureInfo.InvariantCulture, $"- Embedding size: {o.EmbeddingSize}; parameters: {net.ParameterCount()}");
            card.AppendLine(CultureInfo.InvariantCulture, $"- Data: {o.Episodes} simulated `{t}` episodes (seeds {1_000_000 + s * 10_000}…, half scripted expert with noise 0.05, half the perturbed base policy with noise {baseOpts.ActionNoise}), {frameCount} frames, camera `{sim.Camera}`");
            card.AppendLine(CultureInfo.InvariantCulture, $"- Objective: time-contrastive InfoNCE (positives 1–{o.MaxOffset} steps apart in one episode, in-batch negatives, τ = {o.Temperature}, symmetric), {o.Steps} Adam steps, lr {o.LearningRate}, {o.BatchSize} pairs per batch");
            card.AppendLine(CultureInfo.InvariantCulture, $"- Loss: {first:F3} (first 20 steps) → {last:F3} (last 50); chance level ln({o.BatchSize}) = {Math.Log(o.BatchSize):F3}");
            card.AppendLine(CultureInfo.InvariantCulture, $"- Seed: {s}; training time {sw.Elapsed.TotalSeconds:F0} s (including frame collection)");
            card.AppendLine(CultureInfo.InvariantCulture, $"- Command: `./rift train encoder --task {t} --seed {s}`");
            card.AppendLine("- Load: `ConvFrameEncoder.Load(ConvFrameEncoder.DefaultPath(task))`; frozen at run time");
            File.WriteAllText(Path.ChangeExtension(path, ".md"), card.ToString());
            var table = new Table().AddColumns("metric", "value");
            table.AddRow("encoder/loss_first", first.ToString("F3", CultureInfo.InvariantCulture));
            table.AddRow("encoder/loss_last", last.ToString("F3", CultureInfo.InvariantCulture));
            table.AddRow("encoder/frames", frameCount.ToString(CultureInfo.InvariantCulture));
            table.AddRow("encoder/train_s", sw.Elapsed.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(Path.GetFullPath(path))}[/]");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ shared data collection

    /// <summary>Episodes per labelled cache entry: a larger set is cached in parts, and reuses the entries of a smaller one.</summary>
    private const int LabelledCacheChunk = 600;

    /// <summary>Labelled base-policy episodes with embeddings (seeds seed0, seed0+1, …).</summary>
    private static List<RolloutEpisode> LabelledEpisodes(string task, SimOptions sim, PerturbedExpertOptions baseOpts, TriggerEvalOptions eval,
        IFrameEncoder encoder, int count, int seed0, Action onEpisode, string? cacheDir = null, bool odds = false)
    {
        var list = new List<RolloutEpisode>(count);
        for (var first = 0; first < count; first += LabelledCacheChunk)
        {
            var (s0, n) = (seed0 + first, Math.Min(LabelledCacheChunk, count - first));
            var key = new List<object?> { task, "labelled", s0, n, baseOpts, FrameOptions(sim), eval.Horizon, eval.MinImprovement, eval.LabelRollouts, EncoderBytes(task) };
            if (eval.RedrawLapseSchedule) key.Add("redraw-lapse-schedule"); // labels that keep the episode's schedule keep their earlier keys
            if (odds) key.Add("label-odds");
            var collected = 0;
            var part = EpisodeCache.GetOrCollect(cacheDir, $"{task}.labelled", EpisodeCache.Key(key.ToArray()),
                () => CollectLabelled(task, sim, baseOpts, eval, encoder, n, s0, () => { collected++; onEpisode(); }, odds));
            for (var i = collected; i < part.Count; i++) onEpisode(); // a cached part counts as done
            list.AddRange(part);
        }
        return list;
    }

    /// <summary>Episode cache folder (null when disabled; see <see cref="EpisodeCacheOptions"/>).</summary>
    private static string? CacheDirectory(EpisodeCacheOptions o) =>
        o.Enabled ? (Path.IsPathRooted(o.Directory) ? o.Directory : Path.Combine(RiftPaths.Root, o.Directory)) : null;

    private static byte[] EncoderBytes(string task) => File.ReadAllBytes(ConvFrameEncoder.DefaultPath(task));

    private static List<RolloutEpisode> CollectLabelled(string task, SimOptions sim, PerturbedExpertOptions baseOpts, TriggerEvalOptions eval,
        IFrameEncoder encoder, int count, int seed0, Action onEpisode, bool odds)
    {
        using var env = SimTasks.Create(task, FrameOptions(sim));
        using var rollout = SimTasks.Create(task, NoFrameOptions(sim));
        var labeler = new CounterfactualLabeler(rollout, () => SimTasks.CreateExpert(task, sim), eval.Horizon, eval.MinImprovement, eval.LabelRollouts, eval.RedrawLapseSchedule);
        var collector = new RolloutCollector(env, () => SimTasks.CreateExpert(task, sim), baseOpts) { Encoder = encoder, BeforeStep = labeler.Hook(odds) };
        var list = new List<RolloutEpisode>();
        for (var e = 0; e < count; e++)
        {
            list.Add(collector.Run(RolloutKind.Base, seed0 + e));
            onEpisode();
        }
        return list;
    }

    /// <summary>Per-step streams of an episode: Q(z_t, a_t), its predicted gain, V₀(z_t) and the failure classifier's p(z_t).</summary>
    private static Stream Streams(RolloutEpisode ep, FutureValueCritic critic, FailureClassifier? classifier)
    {
        var q = new float[ep.Steps];
        var gain = new float[ep.Steps];
        var v0 = new float[ep.Steps];
        var p = new float[ep.Steps];
        var previous = new float[critic.PreviousActionsLength];
        for (var t = 0; t < ep.Steps; t++)
        {
            FutureValueCritic.FillPreviousActions(ep.Actions, t, critic.ActionHistory, previous);
            (q[t], gain[t]) = critic.EvaluateWithGain(ep.Embeddings[t], ep.Actions[t], previous);
            v0[t] = critic.EvaluateNoFuture(ep.Embeddings[t]);
            p[t] = classifier?.Probability(ep.Embeddings[t]) ?? 0f;
        }
        return new Stream(q, gain, v0, p, ep.Labels);
    }

    private sealed record Stream(float[] Q, float[] Gain, float[] V0, float[] PFail, IReadOnlyList<bool> Labels);

    private static IFrameEncoder LoadEncoder(string task)
    {
        var path = ConvFrameEncoder.DefaultPath(task);
        if (!File.Exists(path)) throw new RiftUserException($"no encoder weights at {path}; run `./rift train encoder --task {task}` first");
        return ConvFrameEncoder.Load(path);
    }


    // ------------------------------------------------------------------ train critic

    private static Command TrainCriticCommand()
    {
        var task = CommonOptions.Task();
        var seed = CommonOptions.Seed();
        var cmd = new Command("critic", "Train the future-conditioned value critic, the learned trigger and the baselines for a task (needs `train encoder`).") { task, seed };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            var t = CommonOptions.TaskValue(parse, task);
            var settings = CriticSettings.From(host, t);
            var modelDir = Path.Combine(RiftPaths.Models, "critic");
            var metrics = new Dictionary<string, double>();
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx => metrics = TrainCritic(t, parse.GetValue(seed), settings, modelDir, ctx));
            var table = new Table().AddColumns("metric", "value");
            foreach (var (k, v) in metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal)) table.AddRow(k, v.ToString("G4", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(Path.GetFullPath(CriticFile(modelDir, t)))}[/] and trigger heads beside it");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Every option the critic and trigger commands read, the base policy's resolved for the task.</summary>
    private sealed record CriticSettings(CriticOptions Critic, LearnedTriggerOptions Learned, TriggerEvalOptions Eval, RiskTriggerOptions Rules,
        SimOptions Sim, PerturbedExpertOptions Base, string? CacheDir)
    {
        public static CriticSettings From(Microsoft.Extensions.Hosting.IHost host, string task) => new(host.Options<CriticOptions>(), host.Options<LearnedTriggerOptions>(), host.Options<TriggerEvalOptions>(),
            host.Options<RiskTriggerOptions>(), host.Options<SimOptions>(), host.Options<PerturbedExpertOptions>().ForTask(task), CacheDirectory(host.Options<EpisodeCacheOptions>()));
    }

    private static string CriticFile(string modelDir, string task) => Path.Combine(modelDir, task + ".safetensors");

    private static string TriggerFile(string modelDir, string task, string name) => Path.Combine(modelDir, $"{task}.{name}.safetensors");

    /// <summary>
    /// <c>train critic</c> for one task and seed: collects (or reads from the cache) the critic and trigger episodes, trains
    /// the critic, the learned trigger heads and the baselines, and writes them with a card into <paramref name="modelDir"/>.
    /// </summary>
    private static Dictionary<string, double> TrainCritic(string t, int s, CriticSettings settings, string modelDir, ProgressContext ctx)
    {
        var (co, lo, eo, _, sim, baseOpts, cacheDir) = settings;
        var encoder = LoadEncoder(t);
        var sw = Stopwatch.StartNew();
        var critic = new FutureValueCritic(encoder.Dimension, ObservationLayout.ActionSize, co, s);
        var train = new List<RolloutEpisode>();
        var trig = new List<RolloutEpisode>();
        var metrics = new Dictionary<string, double>();
        WindowTriggerHead? head = null, headNf = null;
        FailureClassifier? fc = null;
        double thLearned = 0.5, thNf = 0.5, thFc = 0.5, thValue = 0.3;
        {
            // Data: expert demos, base-policy rollouts with failures, intervention segments (seeds 2M + ...).
            var n = eo.ExpertEpisodes + eo.BaseEpisodes + eo.InterventionEpisodes;
            var collect = ctx.AddTask($"rollouts {t}", maxValue: n);
            var seed0 = 2_000_000 + s * 10_000;
            train = EpisodeCache.GetOrCollect(cacheDir, $"{t}.critic", EpisodeCache.Key(t, "critic", seed0, eo.ExpertEpisodes, eo.BaseEpisodes, eo.InterventionEpisodes,
                baseOpts, FrameOptions(sim), EncoderBytes(t)), () =>
            {
                var list = new List<RolloutEpisode>();
                using var env = SimTasks.Create(t, FrameOptions(sim));
                var collector = new RolloutCollector(env, () => SimTasks.CreateExpert(t, sim), baseOpts) { Encoder = encoder };
                for (var e = 0; e < n; e++)
                {
                    var kind = e < eo.ExpertEpisodes ? RolloutKind.Expert : e < eo.ExpertEpisodes + eo.BaseEpisodes ? RolloutKind.Base : RolloutKind.Intervention;
                    list.Add(collector.Run(kind, seed0 + e));
                    collect.Increment(1);
                }
                return list;
            });
            collect.Value = n;
            var labelled = ctx.AddTask("labelled episodes (trigger)", maxValue: eo.TriggerEpisodes);
            trig = LabelledEpisodes(t, sim, baseOpts, eo, encoder, eo.TriggerEpisodes, 3_000_000 + s * 10_000, () => labelled.Increment(1), cacheDir, eo.LabelOdds);

            // Critic: latent prediction + twin value heads.
            var samples = CriticTrainer.Samples(train, critic);
            var trainer = new CriticTrainer(critic, co, s);
            var fit = ctx.AddTask("critic", maxValue: co.Steps);
            double pl = 0, vl = 0;
            for (var i = 0; i < co.Steps; i++)
            {
                var (p, v) = trainer.Update(samples);
                pl = 0.98 * pl + 0.02 * p;
                vl = 0.98 * vl + 0.02 * v;
                fit.Increment(1);
                if (i % 50 == 0) fit.Description = $"critic pred {pl:F3} value {vl:F4}";
            }
            metrics["critic/train_pred_loss"] = pl;
            metrics["critic/train_value_loss"] = vl;
            var trigSamples = CriticTrainer.Samples(trig, critic);
            metrics["critic/train_q_loss"] = CriticTrainer.QLoss(critic, samples);
            metrics["critic/trigger_set_q_loss"] = CriticTrainer.QLoss(critic, trigSamples);
            metrics["critic/train_gain_loss"] = CriticTrainer.GainLoss(critic, samples);
            metrics["critic/trigger_set_gain_loss"] = CriticTrainer.GainLoss(critic, trigSamples);

            // Trigger heads on the labelled episodes' value streams; FA-RL classifier on z. The last
            // ThresholdValidation of the episodes are held out: every threshold is tuned there by event F1.
            var heads = ctx.AddTask("trigger heads", maxValue: 4);
            var nFit = eo.FitEpisodes(trig.Count);
            var fitEps = trig.Take(nFit).ToList();
            fc = new FailureClassifier(critic.EmbeddingSize, seed: s);
            fc.Train(fitEps.SelectMany(e => e.Embeddings.Take(e.Steps)).ToList(), fitEps.SelectMany(e => e.Labels).ToList(), seed: s, latentNoise: (float)co.LatentNoise);
            heads.Increment(1);
            var cross = eo.HeadFolds >= 2;
            // Episodes whose G stream must come from a G that did not see their labels: the heads' fitting episodes, or
            // with cross-fitted heads every trigger episode.
            var gainEps = cross ? trig : fitEps;
            List<Stream> gainStreams;
            if (co.GainLabelSteps > 0)
            {
                // G fine-tuned on the labels; the trigger heads are fitted on out-of-fold G (each fold scored by the G
                // fitted on the other folds), the saved critic's G on all of those episodes.
                var folds = Math.Min(co.GainLabelFolds, gainEps.Count);
                var fitG = ctx.AddTask("gain head on labels", maxValue: (folds + 1) * co.GainLabelSteps * co.GainLabelSoup);
                gainStreams = [];
                for (var k = 0; k < folds; k++)
                {
                    var (from, to) = (k * gainEps.Count / folds, (k + 1) * gainEps.Count / folds);
                    var others = gainEps.Take(from).Concat(gainEps.Skip(to)).ToList();
                    var foldCritic = CriticTrainer.FitGainToLabels(critic, co, others, co.GainLabelSteps, s + k, () => fitG.Increment(1));
                    gainStreams.AddRange(gainEps.Skip(from).Take(to - from).Select(e => Streams(e, foldCritic, fc)));
                }
                critic = CriticTrainer.FitGainToLabels(critic, co, gainEps, co.GainLabelSteps, s + folds, () => fitG.Increment(1));
            }
            else gainStreams = gainEps.Select(e => Streams(e, critic, fc)).ToList();
            // Window features of an episode (what the learned trigger sees at each step). The heads are fitted on them, and
            // their thresholds tuned on the probability streams they give: the learned trigger fires, as the
            // failure-classifier trigger does, when its probability reaches the threshold outside the cooldown.
            List<float[]> FullFeatures(Stream x) => LearnedRiskTrigger.SequenceFeatures(x.Q, lo.WindowSize, x.Gain, lo.UseCurrentValue ? x.V0 : null);
            List<float[]> NoFutureFeatures(Stream x) => LearnedRiskTrigger.SequenceFeatures(x.V0, lo.WindowSize);
            static List<float[]> Rows(IEnumerable<List<float[]>> episodes) => episodes.SelectMany(e => e).ToList();
            var fullFeatures = gainStreams.Select(FullFeatures).ToList();
            var noFutureFeatures = gainStreams.Select(NoFutureFeatures).ToList();
            List<Stream> streams;
            List<(IReadOnlyList<float>, IReadOnlyList<bool>)> tuneFull = [], tuneNf = [];
            if (cross)
            {
                // Cross-fitted heads: member k fitted outside fold k scores fold k; thresholds are tuned on every episode.
                var k = Math.Min(eo.HeadFolds, trig.Count);
                var h = new WindowTriggerHead(lo.WindowSize, lo.Hidden, s, usesGain: true, usesCurrentValue: lo.UseCurrentValue, members: k);
                var hn = new WindowTriggerHead(lo.WindowSize, lo.Hidden, s, members: k);
                for (var f = 0; f < k; f++)
                {
                    var (from, to) = (f * trig.Count / k, (f + 1) * trig.Count / k);
                    bool InFit(int e) => e < from || e >= to;
                    var labels = gainStreams.Where((_, e) => InFit(e)).SelectMany(x => x.Labels).ToList();
                    h.TrainMember(f, Rows(fullFeatures.Where((_, e) => InFit(e))), labels, lo);
                    hn.TrainMember(f, Rows(noFutureFeatures.Where((_, e) => InFit(e))), labels, lo);
                    for (var e = from; e < to; e++)
                    {
                        tuneFull.Add((fullFeatures[e].Select(v => h.MemberProbability(f, v)).ToList(), gainStreams[e].Labels));
                        tuneNf.Add((noFutureFeatures[e].Select(v => hn.MemberProbability(f, v)).ToList(), gainStreams[e].Labels));
                    }
                }
                (head, headNf) = (h, hn);
                heads.Increment(2);
                streams = gainStreams.Skip(nFit).ToList(); // the failure classifier's and value threshold's hold-out
            }
            else
            {
                var fitLabels = fitEps.SelectMany(e => e.Labels).ToList();
                var h = new WindowTriggerHead(lo.WindowSize, lo.Hidden, s, usesGain: true, usesCurrentValue: lo.UseCurrentValue, members: lo.Members);
                h.Train(Rows(fullFeatures), fitLabels, lo);
                heads.Increment(1);
                var hn = new WindowTriggerHead(lo.WindowSize, lo.Hidden, s, members: lo.Members);
                hn.Train(Rows(noFutureFeatures), fitLabels, lo);
                heads.Increment(1);
                (head, headNf) = (h, hn);
                streams = nFit == trig.Count ? gainStreams : trig.Skip(nFit).Select(e => Streams(e, critic, fc)).ToList();
                foreach (var x in streams)
                {
                    tuneFull.Add((FullFeatures(x).Select(v => h.Probability(v)).ToList(), x.Labels));
                    tuneNf.Add((NoFutureFeatures(x).Select(v => hn.Probability(v)).ToList(), x.Labels));
                }
            }
            // G against the labels of episodes no G fitted on it saw (Brier score; lower is a G closer to the label's odds).
            if (cross || nFit < trig.Count)
                metrics["critic/gain_label_loss_validation"] = (cross ? gainStreams : streams).SelectMany(x => x.Gain.Select((g, i) => Math.Pow(g - (x.Labels[i] ? 0.0 : 1.0), 2))).Average();
            metrics["trigger/threshold_episodes"] = tuneFull.Count;
            var grid = TriggerEvaluation.Grid(0.05, 0.95, 0.05).ToList();
            List<(IReadOnlyList<float>, IReadOnlyList<bool>)> Eps(Func<Stream, float[]> pick) =>
                streams.Select(x => ((IReadOnlyList<float>)pick(x), x.Labels)).ToList();
            double f1;
            (thLearned, f1) = TriggerEvaluation.Tune(th => new FailureClassifierTrigger(th, lo.CooldownSteps), tuneFull, grid, eo);
            metrics["trigger/tune_f1"] = f1;
            (thNf, f1) = TriggerEvaluation.Tune(th => new FailureClassifierTrigger(th, lo.CooldownSteps), tuneNf, grid, eo);
            metrics["trigger/tune_f1_no_future"] = f1;
            (thFc, f1) = TriggerEvaluation.Tune(th => new FailureClassifierTrigger(th, lo.CooldownSteps), Eps(x => x.PFail), grid, eo);
            metrics["trigger/tune_f1_failure_classifier"] = f1;
            (thValue, f1) = TriggerEvaluation.Tune(th => new ValueThresholdTrigger(new ValueThresholdTriggerOptions { Threshold = th, CooldownSteps = lo.CooldownSteps }), Eps(x => x.Q), grid, eo);
            metrics["trigger/tune_f1_value_threshold"] = f1;
            heads.Increment(1);
        }

        // Save: critic (+ value threshold), learned triggers, failure classifier, card.
        var path = CriticFile(modelDir, t);
        critic.Save(path, new Dictionary<string, string>
        {
            ["task"] = t,
            ["seed"] = s.ToString(CultureInfo.InvariantCulture),
            ["value_threshold"] = thValue.ToString("R", CultureInfo.InvariantCulture),
            ["encoder"] = Path.GetFileName(ConvFrameEncoder.DefaultPath(t)),
        });
        LearnedRiskTrigger.Save(head!, thLearned, TriggerFile(modelDir, t, "trigger"));
        LearnedRiskTrigger.Save(headNf!, thNf, TriggerFile(modelDir, t, "trigger_no_future"));
        fc!.Save(TriggerFile(modelDir, t, "failure_classifier"), thFc);
        metrics["trigger/threshold"] = thLearned;
        metrics["trigger/threshold_no_future"] = thNf;
        metrics["trigger/threshold_failure_classifier"] = thFc;
        metrics["trigger/threshold_value"] = thValue;
        metrics["critic/train_s"] = sw.Elapsed.TotalSeconds;
        WriteCriticCard(modelDir, t, s, co, lo, eo, baseOpts, critic, train, trig, metrics);
        return metrics;
    }

    private static string GainText(CriticOptions co, bool asTarget = false) => co.GainTarget == GainTarget.Improves
        ? asTarget
            ? string.Create(CultureInfo.InvariantCulture, $"1[v_(t+{co.GainHorizon}) − v_t > {co.GainMinImprovement}] (Brier score)")
            : string.Create(CultureInfo.InvariantCulture, $"P(v_(t+{co.GainHorizon}) − v_t > {co.GainMinImprovement})")
        : string.Create(CultureInfo.InvariantCulture, $"v_(t+{co.GainHorizon}) − v_t");

    private static string ThresholdText(TriggerEvalOptions eo, int count)
    {
        var fit = eo.FitEpisodes(count);
        if (eo.HeadFolds >= 2)
            return $"learned heads cross-fitted over all {count} episodes ({eo.HeadFolds} folds: member k fitted outside fold k scores fold k, the saved head is the ensemble of the {eo.HeadFolds}) and their thresholds tuned for event-level F1 on all out-of-fold scores; failure classifier fitted on the first {fit}, its and the value threshold's thresholds tuned on the other {count - fit}";
        return fit == count
            ? "heads, failure classifier and thresholds (event-level F1) all on these episodes"
            : $"heads and failure classifier fitted on the first {fit}; every threshold (the value threshold's too) tuned for event-level F1 on the other {count - fit}";
    }

    private static void WriteCriticCard(string modelDir, string t, int s, CriticOptions co, LearnedTriggerOptions lo, TriggerEvalOptions eo, PerturbedExpertOptions baseOpts, FutureValueCritic critic,
        List<RolloutEpisode> train, List<RolloutEpisode> trig, Dictionary<string, double> m)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"# Future-conditioned value critic and triggers: {t}");
        sb.AppendLine();
        sb.AppendLine(inv, $"- Files: `{t}.safetensors` (critic: predictor, v1, v2, v0, g), `{t}.trigger.safetensors` (learned trigger on Q), `{t}.trigger_no_future.safetensors` (same head on V₀(z)), `{t}.failure_classifier.safetensors` (FA-RL-style baseline); thresholds in each file's metadata");
        sb.AppendLine(inv, $"- Encoder: `models/encoder/{t}.safetensors` (frozen), embedding {critic.EmbeddingSize}");
        sb.AppendLine(inv, $"- Critic: ẑ_(t+{co.Horizon}) = n(z_t) + P([n(z_t), a_t]), P = MLP [{co.PredictorHidden}, {co.PredictorHidden}] with LayerNorm; twin V heads MLP [{co.ValueHidden}, {co.ValueHidden}]; Q = mean(V₁, V₂)(ẑ); gain head G([ẑ, n(z_t), a_(t−{co.ActionHistory - 1}..t)]) ≈ {GainText(co)}; V₀(n(z_t)) for the no-future ablation; {critic.Parameters.ParameterCount()} parameters");
        sb.AppendLine(inv, $"- Critic data: {train.Count(e => e.Kind == RolloutKind.Expert)} expert demos, {train.Count(e => e.Kind == RolloutKind.Base)} base-policy rollouts ({train.Count(e => e.Kind == RolloutKind.Base && !e.Success)} failed; action noise {baseOpts.ActionNoise}, a lapse in {baseOpts.LapseProbability * 100:0}% of episodes), {train.Count(e => e.Kind == RolloutKind.Intervention)} intervention episodes (expert takeover after a lapse); {train.Sum(e => e.Steps)} steps; seeds {2_000_000 + s * 10_000}…");
        sb.AppendLine(co.Proxy == ProxyValue.Progress
            ? "- Proxy value: oracle progress Φ(s_t), 1 at success (training target only; never an input)"
            : "- Proxy value: t/T on successful episodes, 0 on failed ones, (t − t_i)/(T − t_i) on the supervisor's segment of intervention episodes");
        sb.AppendLine(inv, $"- Loss: MSE(ẑ, sg(n(z_(t+k)))) + MSE of V₁, V₂ on sg(ẑ) and on n(z_(t+k)) against v_(t+k) + MSE of V₀(n(z_t)) against v_t + MSE of G(sg(ẑ), n(z_t), a_(t−{co.ActionHistory - 1}..t)) against {GainText(co, asTarget: true)} (weight 0 where a takeover falls inside the {co.GainHorizon} steps); latent noise {co.LatentNoise}; Adam lr {co.LearningRate}, {co.Steps} steps, batch {co.BatchSize}");
        if (co.GainLabelSteps > 0)
            sb.AppendLine(inv, $"- Gain head then fine-tuned on the counterfactual labels of the trigger's {(eo.HeadFolds >= 2 ? trig.Count : eo.FitEpisodes(trig.Count))} fitting episodes ({co.GainLabelSteps} Adam steps{(co.GainLabelSoup > 1 ? $", the weight average of {co.GainLabelSoup} such fine-tunes" : "")}, squared error against {(eo.LabelOdds ? $"the fraction of the {eo.LabelRollouts} rollouts that improve): G ≈ P(a rollout of the base policy improves)" : "1[not needed]): G ≈ P(a majority of the base policy's rollouts improve)")}; the trigger head is fitted on out-of-fold G ({co.GainLabelFolds} folds, each scored by the G fitted on the others)");
        sb.AppendLine(inv, $"- Trigger heads: {trig.Count} labelled base-policy episodes (seeds {3_000_000 + s * 10_000}…; counterfactual labels H = {eo.Horizon}, min improvement {eo.MinImprovement}, majority of {eo.LabelRollouts} rollouts, {(eo.RedrawLapseSchedule ? "lapse schedule redrawn per rollout" : "the episode's own lapse schedule")}); window K = {lo.WindowSize}; features: Q window block, G window{(lo.UseCurrentValue ? ", V₀ window block (the no-future head's features)" : "")}; MLP [{lo.Hidden}, {lo.Hidden}]{(lo.Members > 1 ? $", an ensemble of {lo.Members} (probabilities averaged)" : "")}; focal loss α {lo.FocalAlpha}, γ {lo.FocalGamma}, {lo.Steps} full-batch Adam steps; {ThresholdText(eo, trig.Count)}");
        var flags = string.Concat(RiftHost.CommandLineOverrides.Select(kv => $" --{kv.Key}={kv.Value}"));
        sb.AppendLine(inv, $"- Seed: {s}; command: `./rift train critic --task {t} --seed {s}{flags}` (data is cached under runs/critic-cache/ when enabled)");
        sb.AppendLine("- Load: `FutureValueCritic.Load(FutureValueCritic.DefaultPath(task))`, `LearnedRiskTrigger.Load(\"models/critic/{task}.trigger.safetensors\")`");
        sb.AppendLine();
        sb.AppendLine("| metric | value |");
        sb.AppendLine("|---|---|");
        foreach (var (k, v) in m.OrderBy(kv => kv.Key, StringComparer.Ordinal)) sb.AppendLine(inv, $"| {k} | {v:G4} |");
        File.WriteAllText(Path.Combine(modelDir, t + ".md"), sb.ToString());
    }

    // ------------------------------------------------------------------ eval trigger

    private static Command EvalTriggerCommand()
    {
        var task = CommonOptions.Task();
        var seed = CommonOptions.Seed();
        var episodes = CommonOptions.Episodes(40);
        var json = CommonOptions.Json();
        var dumpOpt = new Option<string?>("--dump") { Description = "Write per-step streams (progress, label, Q, gain, V0, p_fail, both learned heads' probabilities, firings, action) as CSV to PATH." };
        var modelsOpt = new Option<string?>("--models") { Description = "Folder holding the critic, trigger and classifier weights (default models/critic; e.g. a `bench trigger` seed folder)." };
        var cmd = new Command("trigger", "Evaluate the learned trigger and its baselines on held-out base-policy episodes against counterfactual labels.") { task, seed, episodes, json, dumpOpt, modelsOpt };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            var t = CommonOptions.TaskValue(parse, task);
            var settings = CriticSettings.From(host, t);
            var n = CommonOptions.PositiveValue(parse, episodes);
            var modelDir = parse.GetValue(modelsOpt) ?? Path.Combine(RiftPaths.Models, "critic");
            var metrics = new Dictionary<string, double>();
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    metrics = EvalTrigger(t, parse.GetValue(seed), n, settings, modelDir, ctx, parse.GetValue(dumpOpt));
                    AddLatency(metrics, t, settings, ctx);
                });
            var table = new Table().AddColumns("metric", "value", "target");
            foreach (var (k, v) in metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal)) table.AddRow(k, v.ToString("G4", CultureInfo.InvariantCulture), Target(k));
            AnsiConsole.Write(table);
            var path = parse.GetValue(json);
            if (path is not null) JsonMetrics.Write(path, metrics);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static string Target(string metric) => metric switch
    {
        "trigger/f1" => "≥ 0.85, ≥ baselines + 0.05",
        "critic/step_p99_us" => "≤ 200",
        "encoder/frame_ms_128" => "≤ 5",
        _ => "",
    };

    /// <summary>
    /// <c>eval trigger</c>: the learned trigger, its ablations and baselines (weights from <paramref name="modelDir"/>) on
    /// <paramref name="n"/> held-out labelled episodes, seeds 5 000 000 + 10 000·<paramref name="evalSeed"/> + i.
    /// </summary>
    private static Dictionary<string, double> EvalTrigger(string t, int evalSeed, int n, CriticSettings settings, string modelDir, ProgressContext ctx, string? dump = null)
    {
        var (_, lo, eo, ro, sim, baseOpts, cacheDir) = settings;
        var encoder = LoadEncoder(t);
        var criticPath = CriticFile(modelDir, t);
        if (!File.Exists(criticPath)) throw new RiftUserException($"no critic weights at {criticPath}; run `./rift train critic --task {t}` first");
        var critic = FutureValueCritic.Load(criticPath);
        var thValue = double.Parse(SafeTensors.ReadMetadata(criticPath)["value_threshold"], CultureInfo.InvariantCulture);
        var learned = LearnedRiskTrigger.Load(TriggerFile(modelDir, t, "trigger"), lo.CooldownSteps);
        var learnedNf = LearnedRiskTrigger.Load(TriggerFile(modelDir, t, "trigger_no_future"), lo.CooldownSteps);
        var (fc, thFc) = FailureClassifier.Load(TriggerFile(modelDir, t, "failure_classifier"));
        var metrics = new Dictionary<string, double>();
        var bar = ctx.AddTask($"held-out episodes {t}", maxValue: n);
        var eps = LabelledEpisodes(t, sim, baseOpts, eo, encoder, n, 5_000_000 + evalSeed * 10_000, () => bar.Increment(1), cacheDir);
        var streams = eps.Select(e => Streams(e, critic, fc)).ToList();
        List<(IReadOnlyList<float>, IReadOnlyList<bool>)> Eps(Func<Stream, float[]> pick) =>
            streams.Select((x, i) => ((IReadOnlyList<float>)pick(x), (IReadOnlyList<bool>)eps[i].Labels)).ToList();
        metrics["critic/q_loss"] = CriticTrainer.QLoss(critic, CriticTrainer.Samples(eps, critic));
        var primary = eo.NewScoring();
        foreach (var x in streams) primary.Add(x.Labels, learned.Firings(x.Q, x.Gain, x.V0));
        if (dump is not null) DumpStreams(dump, eps, streams, learned, learnedNf, new RiskTrigger(ro));
        metrics["trigger/f1"] = primary.F1;
        metrics["trigger/precision"] = primary.Precision;
        metrics["trigger/recall"] = primary.Recall;
        metrics["trigger/events"] = primary.Events;
        metrics["trigger/firings"] = primary.Firings;
        metrics["trigger/f1_rules"] = TriggerEvaluation.Score(() => new RiskTrigger(ro), Eps(x => x.Q), eo).F1;
        metrics["trigger/f1_no_future"] = TriggerEvaluation.Score(() => learnedNf, Eps(x => x.V0), eo).F1;
        metrics["trigger/f1_rules_no_future"] = TriggerEvaluation.Score(() => new RiskTrigger(ro), Eps(x => x.V0), eo).F1;
        metrics["trigger/f1_failure_classifier"] = TriggerEvaluation.Score(() => new FailureClassifierTrigger(thFc, lo.CooldownSteps), Eps(x => x.PFail), eo).F1;
        metrics["trigger/f1_value_threshold"] = TriggerEvaluation.Score(() => new ValueThresholdTrigger(new ValueThresholdTriggerOptions { Threshold = thValue, CooldownSteps = lo.CooldownSteps }), Eps(x => x.Q), eo).F1;
        // Privileged references (not methods): the same matching and cooldown applied to firing exactly on the labels,
        // and to a perfect future predictor of the realised progress Φ_{t+H} − Φ_t ≤ MinImprovement.
        IRiskTrigger Below(double th) => new ValueThresholdTrigger(new ValueThresholdTriggerOptions { Threshold = th, CooldownSteps = lo.CooldownSteps });
        metrics["oracle/f1_fire_on_labels"] = TriggerEvaluation.Score(() => Below(0.5),
            eps.Select(e => ((IReadOnlyList<float>)e.Labels.Select(l => l ? 0f : 1f).ToArray(), (IReadOnlyList<bool>)e.Labels)), eo).F1;
        metrics["oracle/f1_realised_future"] = TriggerEvaluation.Score(() => Below(eo.MinImprovement + 1e-6),
            eps.Select(e => ((IReadOnlyList<float>)Enumerable.Range(0, e.Steps)
                .Select(i => e.ProxyOf(ProxyValue.Progress, Math.Min(i + eo.Horizon, e.Steps)) - e.ProxyOf(ProxyValue.Progress, i)).ToArray(),
                (IReadOnlyList<bool>)e.Labels)), eo).F1;
        metrics["trigger/label_rate"] = eps.Sum(e => e.Labels.Count(l => l)) / (double)Math.Max(1, eps.Sum(e => e.Labels.Count));
        metrics["rollout/base_sr"] = eps.Count(e => e.Success) / (double)eps.Count;
        return metrics;
    }

    /// <summary>critic/step_p99_us, critic/step_p50_us (1024-d, configured architecture) and encoder/frame_ms_128.</summary>
    private static void AddLatency(Dictionary<string, double> metrics, string t, CriticSettings settings, ProgressContext ctx)
    {
        var timing = ctx.AddTask("latency", maxValue: 2);
        (metrics["critic/step_p99_us"], metrics["critic/step_p50_us"]) = CriticStepUs(settings.Critic, settings.Learned);
        timing.Increment(1);
        metrics["encoder/frame_ms_128"] = EncoderFrameMs(LoadEncoder(t), settings.Sim, t);
        timing.Increment(1);
    }

    /// <summary>
    /// Per-step CSV of the evaluation episodes: the labels, the critic's streams, the learned heads' probabilities, the
    /// firings of the learned, no-future and rule triggers, and the action (components a0, a1, …).
    /// </summary>
    private static void DumpStreams(string path, List<RolloutEpisode> eps, List<Stream> streams, LearnedRiskTrigger learned, LearnedRiskTrigger noFuture, RiskTrigger rules)
    {
        var inv = CultureInfo.InvariantCulture;
        var actionSize = eps.Count > 0 && eps[0].Actions.Count > 0 ? eps[0].Actions[0].Length : 0;
        var sb = new StringBuilder("episode,seed,success,t,progress,label,q,gain,v0,p_fail,p_learned,p_no_future,fired_learned,fired_no_future,fired_rules");
        for (var i = 0; i < actionSize; i++) sb.Append(inv, $",a{i}");
        sb.Append('\n');
        for (var e = 0; e < eps.Count; e++)
        {
            var x = streams[e];
            var fr = TriggerEvaluation.Firings(rules, x.Q).ToHashSet();
            learned.Reset();
            noFuture.Reset();
            for (var t = 0; t < x.Q.Length; t++)
            {
                var fl = learned.Update(x.Q[t], x.Gain[t], x.V0[t]) != TriggerReason.None;
                var fn = noFuture.Update(x.V0[t]) != TriggerReason.None;
                sb.Append(inv, $"{e},{eps[e].Seed},{(eps[e].Success ? 1 : 0)},{t},{eps[e].Progress[t]:F4},{(x.Labels[t] ? 1 : 0)},{x.Q[t]:F4},{x.Gain[t]:F4},{x.V0[t]:F4},{x.PFail[t]:F3}");
                sb.Append(inv, $",{learned.LastProbability:F4},{noFuture.LastProbability:F4},{(fl ? 1 : 0)},{(fn ? 1 : 0)},{(fr.Contains(t) ? 1 : 0)}");
                foreach (var a in eps[e].Actions[t]) sb.Append(inv, $",{a:R}");
                sb.Append('\n');
            }
        }
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>
    /// p99 and median over 20 000 steps of <see cref="CriticRiskMonitor.Step"/> (predictor + twin value heads on ẑ and
    /// on z for the gain + learned trigger update) for a 1024-d embedding
    /// (random weights of the configured architecture; encoder excluded), one thread.
    /// </summary>
    public static (double P99, double P50) CriticStepUs(CriticOptions co, LearnedTriggerOptions lo)
    {
        var monitor = new CriticRiskMonitor(new FutureValueCritic(1024, ObservationLayout.ActionSize, co, 1),
            new LearnedRiskTrigger(new WindowTriggerHead(lo.WindowSize, lo.Hidden, 1, usesGain: true, usesCurrentValue: lo.UseCurrentValue, members: lo.Members), 0.5, lo.CooldownSteps));
        var rng = new Rng(7);
        var zs = new float[64][];
        for (var i = 0; i < zs.Length; i++)
        {
            zs[i] = new float[1024];
            rng.FillNormal(zs[i], 0f, 1f);
        }
        var a = new float[] { 0.1f, -0.2f, 0.3f, 1f };
        const int warm = 2000, steps = 20_000;
        var us = new double[steps];
        for (var i = 0; i < warm + steps; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            monitor.Step(zs[i & 63], a);
            var t1 = Stopwatch.GetTimestamp();
            if (i >= warm) us[i - warm] = (t1 - t0) * 1e6 / Stopwatch.Frequency;
        }
        Array.Sort(us);
        return (us[(int)(0.99 * (steps - 1))], us[steps / 2]);
    }

    /// <summary>Median milliseconds to encode one 128×128 frame (preprocessing included), one thread.</summary>
    public static double EncoderFrameMs(IFrameEncoder encoder, SimOptions sim, string task)
    {
        using var env = SimTasks.Create(task, FrameOptions(sim));
        var (obs, _) = env.Reset(1);
        var z = new float[encoder.Dimension];
        for (var i = 0; i < 20; i++) encoder.Encode(obs, z);
        var ms = new double[200];
        for (var i = 0; i < ms.Length; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            encoder.Encode(obs, z);
            ms[i] = (Stopwatch.GetTimestamp() - t0) * 1e3 / Stopwatch.Frequency;
        }
        Array.Sort(ms);
        return ms[ms.Length / 2];
    }
}
