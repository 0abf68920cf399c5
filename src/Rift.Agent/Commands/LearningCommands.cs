using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Rift.Agent.Cli;
using Rift.Learning;
using Rift.Nn;
using Rift.Sim;
using Rift.Sim.Supervisors;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift check rift</c> (RIFT's claims on a simulated task) and <c>rift train prior</c> (BC priors).</summary>
public sealed class LearningCommands : ICommandProvider
{
    public void Register(CliTree tree)
    {
        tree.Group("check").Subcommands.Add(CheckRiftCommand());
        tree.Group("train").Subcommands.Add(TrainPriorCommand());
    }

    private static string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);

    /// <summary>
    /// The e-stop supervisor of the check: Rift.Sim's simulated supervisor as an e-stop (value gap above B or stuck),
    /// or the oracle-progress stall/setback rule. Large B and patience = low informativeness.
    /// </summary>
    private static IHumanSupervisor MakeSupervisor(IEnvironment env, RiftCheckOptions o)
    {
        if (o.Supervisor == "sim" && env is SimEnvironment sim)
            return SimulatedSupervisor.For(sim, new SimSupervisorOptions
            {
                Kind = SupervisorKind.EStop,
                Triggers = SupervisorTriggers.ValueGap | SupervisorTriggers.Stuck,
                ValueGapThreshold = o.EStopValueGap,
                PatienceSteps = o.EStopPatience,
                Seed = o.Seed,
            });
        return new ProgressEStopSupervisor(o.EStopPatience, o.EStopDrop);
    }

    /// <summary>Prior file name for a set of BC knobs (cached between runs).</summary>
    private static string PriorPath(string task, BcOptions bc) =>
        Path.Combine(RiftPaths.Models, "priors",
            FormattableString.Invariant($"{task}_bc_d{bc.Demos}_n{bc.ActionNoise:0.###}_s{bc.Steps}_h{string.Join("x", bc.HiddenSizes())}_seed{bc.Seed}.safetensors"));

    private static void WriteCard(string path, string task, BcOptions bc, EvaluationResult? eval)
    {
        var card = $"""
            # BC prior `{Path.GetFileName(path)}`

            Behaviour cloning (Rift.Learning `BehaviorCloning.Train`) of a tanh-Gaussian MLP on `{task}` scripted-expert demonstrations.

            | knob | value |
            |---|---|
            | demos | {bc.Demos} |
            | action noise | {bc.ActionNoise.ToString(CultureInfo.InvariantCulture)} |
            | steps | {bc.Steps} |
            | hidden | {bc.Hidden} |
            | batch / lr | {bc.BatchSize} / {bc.LearningRate.ToString(CultureInfo.InvariantCulture)} |
            | seed | {bc.Seed} |
            {(eval is { } e ? $"| deterministic SR ({e.Episodes} eval episodes, seeds {RiftExperiment.EvalSeed0}+) | {F(e.SuccessRate)} |" : "")}

            Reproduce: `./rift train prior --task {task} --Bc:Demos={bc.Demos} --Bc:ActionNoise={bc.ActionNoise.ToString(CultureInfo.InvariantCulture)} --Bc:Steps={bc.Steps} --Bc:Seed={bc.Seed} --Bc:Hidden={bc.Hidden}`.
            """;
        File.WriteAllText(Path.ChangeExtension(path, ".md"), card);
    }

    private static TanhGaussianActor LoadOrTrainPrior(string task, BcOptions bc, Func<TanhGaussianActor> train, out bool cached)
    {
        var path = PriorPath(task, bc);
        var actor = new TanhGaussianActor(ObservationLayout.PolicyInputSize, ObservationLayout.ActionSize, bc.HiddenSizes(), new Rng(0));
        if (File.Exists(path))
        {
            actor.Load(path);
            cached = true;
            return actor;
        }
        cached = false;
        actor = train();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        actor.Save(path, new Dictionary<string, string> { ["format"] = "rift-bc-prior", ["task"] = task });
        return actor;
    }

    private static Command TrainPriorCommand()
    {
        var task = CommonOptions.Task();
        var episodes = CommonOptions.Episodes(100);
        var json = CommonOptions.Json();
        var cmd = new Command("prior", "Train a BC prior on scripted-expert demonstrations (knobs: --Bc:Demos, --Bc:ActionNoise, --Bc:Steps), save it under models/priors/ with a card, and report its deterministic SR.") { task, episodes, json };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            var sim = host.Options<SimOptions>();
            var bc = host.Options<BcOptions>();
            var t = CommonOptions.TaskValue(parse, task);
            var n = CommonOptions.PositiveValue(parse, episodes);
            TanhGaussianActor? prior = null;
            EvaluationResult eval = default;
            AnsiConsole.Progress().Start(ctx =>
            {
                var demo = ctx.AddTask("demonstrations", maxValue: bc.Demos);
                var fit = ctx.AddTask("behaviour cloning", maxValue: bc.Steps);
                var ev = ctx.AddTask("evaluation", maxValue: n);
                using var env = SimTasks.Create(t, sim);
                var demos = Demonstrations.Collect(env, SimTasks.CreateExpert(t, sim), bc.Demos, bc.ActionNoise, 10_000 + bc.Seed * 1000, () => demo.Increment(1));
                prior = BehaviorCloning.Train(demos.SelectMany(d => d.Transitions).ToList(), env.Spec.PolicyInputSize, env.Spec.ActionSize, bc, onStep: (_, _) => fit.Increment(1));
                eval = Rollouts.Evaluate(env, prior, n, RiftExperiment.EvalSeed0, null, () => ev.Increment(1));
            });
            var path = PriorPath(t, bc);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            prior!.Save(path, new Dictionary<string, string> { ["format"] = "rift-bc-prior", ["task"] = t });
            WriteCard(path, t, bc, eval);
            var table = new Table().AddColumns("metric", "value");
            table.AddRow("bc/prior_sr", F(eval.SuccessRate));
            table.AddRow("bc/episode_steps", eval.MeanSteps.ToString("F1", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(path)}[/]");
            var j = parse.GetValue(json);
            if (j is not null) JsonMetrics.Write(j, new Dictionary<string, double> { ["bc/prior_sr"] = eval.SuccessRate, ["bc/episode_steps"] = eval.MeanSteps });
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command CheckRiftCommand()
    {
        var task = CommonOptions.Task();
        var json = CommonOptions.Json();
        var only = new Option<string?>("--variants") { Description = "Comma-separated subset of rlif,rift,zero_reward_trunc,zero_reward_term (default: all)." };
        var cmd = new Command("rift", "RIFT's claims on a simulated task: BC prior ≈50%, low-informative e-stops; RLIF vs RIFT vs zero-residual-reward truncation/termination. Options in section RiftCheck.") { task, json, only };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            var sim = host.Options<SimOptions>();
            var o = host.Options<RiftCheckOptions>();
            var t = CommonOptions.TaskValue(parse, task);
            var sw = Stopwatch.StartNew();
            var exp = new RiftExperiment(o, () => SimTasks.Create(t, sim), () => SimTasks.CreateExpert(t, sim), env => MakeSupervisor(env, o));
            var variants = RiftExperiment.Variants(o.Omega).ToList();
            var subset = parse.GetValue(only);
            if (!string.IsNullOrWhiteSpace(subset))
            {
                var names = subset.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
                var unknown = names.Except(variants.Select(v => v.Name)).FirstOrDefault();
                if (unknown is not null) throw new RiftUserException($"--variants: unknown variant '{unknown}'; known: {string.Join(", ", variants.Select(v => v.Name))}");
                variants = variants.Where(v => names.Contains(v.Name)).ToList();
            }
            if (o.Parallel > 1) Gemm.Threads = 1;

            TanhGaussianActor prior = null!;
            EvaluationResult priorEval = default;
            var results = new RiftVariantResult[variants.Count];
            var cached = false;
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn()).Start(ctx =>
            {
                var bcBar = ctx.AddTask("BC prior", maxValue: 1.0);
                var evBar = ctx.AddTask("prior evaluation", maxValue: o.EvalEpisodes);
                var bars = variants.Select(v => ctx.AddTask(v.Name, maxValue: 1.0)).ToArray();
                prior = LoadOrTrainPrior(t, exp.PriorOptions(), () => exp.TrainPrior(f => bcBar.Value = f), out cached);
                bcBar.Value = 1.0;
                priorEval = exp.Evaluate(prior, () => evBar.Increment(1));
                Parallel.For(0, variants.Count, new ParallelOptions { MaxDegreeOfParallelism = o.Parallel }, i =>
                {
                    results[i] = exp.Run(prior, variants[i], f => bars[i].Value = f);
                    bars[i].Value = 1.0;
                });
            });
            if (!cached) WriteCard(PriorPath(t, exp.PriorOptions()), t, exp.PriorOptions(), priorEval);

            var metrics = new Dictionary<string, double> { ["rift/prior_sr"] = priorEval.SuccessRate, ["rift/prior_ir_episode"] = priorEval.InterventionRateEpisode };
            var table = new Table().AddColumns("run", "SR (det.)", "IR episode (det.)", "train IR episode", "updates", "seconds");
            table.AddRow("prior (BC)", F(priorEval.SuccessRate), F(priorEval.InterventionRateEpisode), "-", "-", "-");
            foreach (var r in results)
            {
                metrics[$"rift/{r.Variant.Name}_sr"] = r.Evaluation.SuccessRate;
                metrics[$"rift/{r.Variant.Name}_ir_episode"] = r.Evaluation.InterventionRateEpisode;
                metrics[$"rift/{r.Variant.Name}_train_ir_episode"] = r.TrainInterventionRate;
                foreach (var (k, v) in r.LastMetrics) metrics[$"rift/{r.Variant.Name}/{k}"] = v;
                table.AddRow(r.Variant.Name, F(r.Evaluation.SuccessRate), F(r.Evaluation.InterventionRateEpisode), F(r.TrainInterventionRate),
                    r.Updates.ToString(CultureInfo.InvariantCulture), r.Seconds.ToString("F0", CultureInfo.InvariantCulture));
            }
            metrics["rift/seconds"] = sw.Elapsed.TotalSeconds;
            AnsiConsole.Write(table);

            var checks = new List<(string, bool)>();
            double? Get(string k) => metrics.TryGetValue(k, out var v) ? v : null;
            if (Get("rift/rift_sr") is { } rift)
            {
                checks.Add(("rift_sr ≥ prior_sr + 0.10", rift >= priorEval.SuccessRate + 0.10 - 1e-9));
                if (Get("rift/rlif_sr") is { } rlif) checks.Add(("rift_sr ≥ rlif_sr", rift >= rlif - 1e-9));
            }
            if (Get("rift/zero_reward_trunc_sr") is { } trunc)
            {
                checks.Add(("|zero_reward_trunc_sr − prior_sr| ≤ 0.10", Math.Abs(trunc - priorEval.SuccessRate) <= 0.10 + 1e-9));
                if (Get("rift/zero_reward_term_sr") is { } term) checks.Add(("zero_reward_term_sr < zero_reward_trunc_sr", term < trunc));
            }
            var ct = new Table().AddColumns("done-when", "holds");
            foreach (var (name, ok) in checks) ct.AddRow(Markup.Escape(name), ok ? "[green]yes[/]" : "[red]no[/]");
            AnsiConsole.Write(ct);
            AnsiConsole.MarkupLine($"wall time {sw.Elapsed.TotalMinutes:F1} min");
            var j = parse.GetValue(json);
            if (j is not null) JsonMetrics.Write(j, metrics);
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
