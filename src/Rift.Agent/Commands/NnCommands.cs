using System.CommandLine;
using Rift.Agent.Cli;
using Rift.Nn;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift bench nn</c>: Rift.Nn training throughput and inference latency (medians of repeated runs).</summary>
public sealed class NnCommands : ICommandProvider
{
    private sealed record Workload(string Key, string Label, int[] Sizes, int Threads, bool Inference = false);

    public void Register(CliTree tree)
    {
        var json = CommonOptions.Json();
        var quick = new Option<bool>("--quick") { Description = "Fewer repeats and steps (about 20 s)." };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per workload; the median is reported.", DefaultValueFactory = _ => 7 };
        var steps = new Option<int>("--steps") { Description = "Training steps per timed run of the SAC-critic MLP (the wide MLP runs a quarter).", DefaultValueFactory = _ => 300 };
        var cmd = new Command("nn", "Train MLPs (forward, MSE, backward, Adam lr 3e-4, batch 256, random data) and time single-sample inference; reports medians.")
        {
            json, quick, repeats, steps,
        };
        cmd.SetAction(parse =>
        {
            int reps = parse.GetValue(repeats), n = parse.GetValue(steps);
            if (parse.GetValue(quick))
            {
                reps = Math.Min(reps, 3);
                n = Math.Min(n, 100);
            }
            if (reps < 1) throw new RiftUserException($"--repeats must be ≥ 1, got {reps}");
            if (n < 4) throw new RiftUserException($"--steps must be ≥ 4, got {n}");
            var workloads = new[]
            {
                new Workload("nn/sac_critic_1t_steps_per_s", "SAC critic 32-400-300-1, 1 thread", [32, 400, 300, 1], 1),
                new Workload("nn/sac_critic_2t_steps_per_s", "SAC critic 32-400-300-1, 2 threads", [32, 400, 300, 1], 2),
                new Workload("nn/wide_1t_steps_per_s", "wide 512-512-512-1, 1 thread", [512, 512, 512, 1], 1),
                new Workload("nn/wide_2t_steps_per_s", "wide 512-512-512-1, 2 threads", [512, 512, 512, 1], 2),
                new Workload("nn/infer_1x1024_us", "inference 1×1024-512-512-1 (µs)", [1024, 512, 512, 1], 1, Inference: true),
            };
            var runs = workloads.ToDictionary(w => w.Key, _ => new List<double>());
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var tasks = workloads.ToDictionary(w => w.Key, w => ctx.AddTask(Markup.Escape(w.Label), maxValue: reps));
                    // Interleave workloads across repeats so background load affects them alike.
                    for (int r = 0; r < reps; r++)
                        foreach (var w in workloads)
                        {
                            double v = w.Inference
                                ? NnBench.InferenceMicroseconds(w.Sizes, calls: 2000, seed: r)
                                : NnBench.TrainStepsPerSecond(w.Sizes, 256, w.Threads, w.Sizes[0] >= 512 ? Math.Max(n / 4, 4) : n, warmup: 10, seed: r);
                            runs[w.Key].Add(v);
                            tasks[w.Key].Increment(1);
                        }
                });
            var metrics = runs.ToDictionary(kv => kv.Key, kv => NnBench.Median(kv.Value));
            var table = new Table().AddColumns("metric", "median", "min", "max", "runs");
            foreach (var w in workloads)
            {
                var v = runs[w.Key];
                table.AddRow(w.Key, metrics[w.Key].ToString("F1"), v.Min().ToString("F1"), v.Max().ToString("F1"), v.Count.ToString());
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"[grey]matmul kernel {Gemm.Best}, {Environment.ProcessorCount} logical CPUs[/]");
            var path = parse.GetValue(json);
            if (path is not null) JsonMetrics.Write(path, metrics);
            return ExitCodes.Ok;
        });
        tree.Group("bench").Subcommands.Add(cmd);
    }
}
