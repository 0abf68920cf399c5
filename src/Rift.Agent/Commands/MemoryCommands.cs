using System.CommandLine;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Rift.Agent.Cli;
using Rift.Memory;
using Rift.Memory.Embedded;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift bench memory</c>: query latency, quantised recall and durable insert rate of the embedded vector store.</summary>
public sealed partial class MemoryCommands : ICommandProvider
{
    private const int Dim = 1024;

    public void Register(CliTree tree)
    {
        var json = CommonOptions.Json();
        var seed = CommonOptions.Seed();
        var queries = new Option<int>("--queries") { Description = "Timed queries per measurement.", DefaultValueFactory = _ => 1000 };
        var clusters = new Option<int>("--clusters") { Description = "Clusters in the generated data (fewer = larger clusters, harder within-cluster ranking).", DefaultValueFactory = _ => 200 };
        var bench = new Command("memory",
            "Embedded vector store: exact query latency at 10k×1024, int8-scan latency and recall@10 at 100k×1024 (clustered data), durable inserts/s.")
        {
            json, seed, queries, clusters,
        };
        bench.SetAction(parse =>
        {
            var q = parse.GetValue(queries);
            if (q < 10) throw new RiftUserException($"--queries must be at least 10 (got {q})");
            var c = parse.GetValue(clusters);
            if (c < 1 || c > 100_000) throw new RiftUserException($"--clusters must be in [1, 100000] (got {c})");
            using var host = RiftHost.Build();
            var configured = host.Options<VectorStoreOptions>();
            var metrics = Run(configured, parse.GetValue(seed), q, c);
            Report(metrics, parse.GetValue(json), Describe(c));
            return ExitCodes.Ok;
        });
        tree.Group("bench").Subcommands.Add(bench);
    }

    private static string Describe(int clusters) =>
        $"clustered Gaussian, 1024-d: {clusters} clusters, centre ~ N(0, I), 16-d latent subspace per cluster (basis ~ N(0, I), " +
        "coefficients ~ N(0, 0.25²)), isotropic noise N(0, 0.1²); queries are fresh draws from the same mixture; cosine metric";

    private static Dictionary<string, double> Run(VectorStoreOptions configured, int seed, int queryCount, int clusterCount)
    {
        var metrics = new Dictionary<string, double>();
        var root = Path.Combine(Path.GetTempPath(), "rift-bench-memory-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var gen = ctx.AddTask("generate 100k clustered vectors", maxValue: 1);
                    var load = ctx.AddTask("load stores (10k, 100k)", maxValue: 1);
                    var exact10k = ctx.AddTask("exact queries, 10k", maxValue: 1);
                    var quant100k = ctx.AddTask("int8 scan + re-rank, 100k", maxValue: 1);
                    var recall = ctx.AddTask("recall@10 vs brute force, 100k", maxValue: 1);
                    var uniform = ctx.AddTask("recall@10 on uniform noise (worst case)", maxValue: 1);
                    var inserts = ctx.AddTask("durable inserts", maxValue: 1);

                    var rng = new Random(seed);
                    var mixture = new Mixture(rng, clusters: clusterCount, latent: 16);
                    var data = new float[100_000][];
                    for (var i = 0; i < data.Length; i++)
                    {
                        data[i] = mixture.Sample(rng);
                        if (i % 1000 == 0) gen.Value = (double)i / data.Length;
                    }
                    var queries = Enumerable.Range(0, queryCount).Select(_ => mixture.Sample(rng)).ToArray();
                    gen.Value = 1;

                    var options = new VectorStoreOptions
                    {
                        Path = root,
                        Fsync = FsyncPolicy.None,
                        RerankFactor = configured.RerankFactor,
                        PrefilterDims = configured.PrefilterDims,
                        PrefilterCandidates = configured.PrefilterCandidates,
                        QuantizedScanMinItems = configured.QuantizedScanMinItems,
                        SegmentMaxBytes = configured.SegmentMaxBytes,
                    };
                    using var store = new EmbeddedVectorStore(options);
                    store.CreateCollection("b10k", Dim, DistanceMetric.Cosine);
                    store.CreateCollection("b100k", Dim, DistanceMetric.Cosine);
                    for (var i = 0; i < data.Length; i += 1000)
                    {
                        var batch = Enumerable.Range(i, 1000).Select(j => new VectorItem((ulong)j, data[j], Payload(j))).ToArray();
                        if (i < 10_000) store.Upsert("b10k", batch);
                        store.Upsert("b100k", batch);
                        load.Value = (double)(i + 1000) / data.Length;
                    }

                    // 10k: exact top-10 (int8 intervals + float32 re-rank; same answers as brute force), one thread.
                    var (p50, p99) = Latency(queries, q => store.Search("b10k", q, 10, mode: SearchMode.Exact), metrics, "10k_1024");
                    metrics["memory/query_p50_us_10k_1024"] = p50;
                    metrics["memory/query_p99_us_10k_1024"] = p99;
                    var bruteQueries = queries.Take(Math.Min(200, queries.Length)).ToArray();
                    (p50, p99) = Latency(bruteQueries, q => store.Search("b10k", q, 10, mode: SearchMode.BruteForce));
                    metrics["memory/query_p50_us_10k_1024_bruteforce"] = p50;
                    metrics["memory/query_p99_us_10k_1024_bruteforce"] = p99;
                    var mismatches = bruteQueries.Count(q =>
                        !store.Search("b10k", q, 10, mode: SearchMode.Exact).Select(h => h.Id)
                            .SequenceEqual(store.Search("b10k", q, 10, mode: SearchMode.BruteForce).Select(h => h.Id)));
                    metrics["memory/exact_mismatch_queries_10k_1024"] = mismatches;
                    exact10k.Value = 1;

                    // 100k: int8 scan keeping k × RerankFactor candidates, re-ranked in float32.
                    (p50, p99) = Latency(queries, q => store.Search("b100k", q, 10, mode: SearchMode.Quantized), metrics, "100k_1024");
                    metrics["memory/query_p50_us_100k_1024"] = p50;
                    metrics["memory/query_p99_us_100k_1024"] = p99;
                    (p50, p99) = Latency(queries.Take(Math.Min(300, queries.Length)).ToArray(), q => store.Search("b100k", q, 10, mode: SearchMode.Exact));
                    metrics["memory/query_p50_us_100k_1024_exact"] = p50;
                    metrics["memory/query_p99_us_100k_1024_exact"] = p99;
                    quant100k.Value = 1;

                    metrics["memory/recall_at_10_100k_1024"] = Recall(store, "b100k", queries.Take(Math.Min(200, queries.Length)).ToArray(), recall);
                    store.Delete("b100k", Enumerable.Range(0, data.Length).Select(i => (ulong)i).ToArray());
                    store.Compact("b100k");

                    // Worst case for any quantiser: i.i.d. uniform components, where top-10 neighbours are near-ties
                    // and no prefix of the coordinates predicts the rest. Measured with the configured prefix scan
                    // and with a full-length int8 scan (PrefilterDims = 0).
                    using var fullScan = new EmbeddedVectorStore(new VectorStoreOptions
                    {
                        Path = Path.Combine(root, "fullscan"), Fsync = FsyncPolicy.None, PrefilterDims = 0, RerankFactor = configured.RerankFactor,
                    });
                    fullScan.CreateCollection("b100k", Dim, DistanceMetric.Cosine);
                    for (var i = 0; i < data.Length; i += 1000)
                    {
                        var batch = Enumerable.Range(i, 1000).Select(j =>
                        {
                            var v = new float[Dim];
                            for (var d = 0; d < Dim; d++) v[d] = (float)(rng.NextDouble() * 2 - 1);
                            return new VectorItem((ulong)j, v, Payload(j));
                        }).ToArray();
                        store.Upsert("b100k", batch);
                        fullScan.Upsert("b100k", batch);
                        uniform.Value = 0.5 * (i + 1000) / data.Length;
                    }
                    var uniformQueries = Enumerable.Range(0, 100).Select(_ =>
                    {
                        var v = new float[Dim];
                        for (var d = 0; d < Dim; d++) v[d] = (float)(rng.NextDouble() * 2 - 1);
                        return v;
                    }).ToArray();
                    metrics["memory/recall_at_10_100k_1024_uniform"] = Recall(store, "b100k", uniformQueries, null);
                    metrics["memory/recall_at_10_100k_1024_uniform_fullscan"] = Recall(fullScan, "b100k", uniformQueries, null);
                    uniform.Value = 1;
                    data = null;

                    // Durable inserts: one item per call, each acknowledged after fsync (FsyncPolicy.EveryWrite).
                    foreach (var (policy, key) in new[] { (FsyncPolicy.EveryWrite, "memory/insert_per_s"), (FsyncPolicy.Batched, "memory/insert_per_s_batched_fsync") })
                    {
                        using var durable = new EmbeddedVectorStore(new VectorStoreOptions { Path = Path.Combine(root, policy.ToString()), Fsync = policy });
                        durable.CreateCollection("ins", Dim, DistanceMetric.Cosine);
                        var sw = Stopwatch.StartNew();
                        var n = 0;
                        while (n < 20_000 && sw.Elapsed.TotalSeconds < 3)
                        {
                            durable.Upsert("ins", new VectorItem((ulong)n, queries[n % queries.Length], Payload(n)));
                            n++;
                        }
                        metrics[key] = n / sw.Elapsed.TotalSeconds;
                        inserts.Value += 0.5;
                    }
                    inserts.Value = 1;
                });
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); }
            catch (IOException) { }
        }
        return metrics;
    }

    /// <summary>1-minute load average (Linux), so results from a busy shared machine can be read as such.</summary>
    private static double LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    private static MemoryPayload Payload(int i) =>
        new($"task{i % 3}", 0.5f + (i % 50) / 100f, 0.4f, RecoverySource.Agent, i / 100, i % 100, 1_700_000_000_000 + i);

    /// <summary>
    /// Per-query wall-clock latency in µs after a warm-up: (p50, p99). The thread's CPU time per query is recorded
    /// under <paramref name="cpuKey"/> too: on a shared machine the wall clock also counts time the thread was not running.
    /// </summary>
    private static (double P50, double P99) Latency(float[][] queries, Action<float[]> search, Dictionary<string, double>? metrics = null, string? cpuKey = null)
    {
        foreach (var q in queries.Take(20)) search(q);
        GC.Collect();
        var us = new double[queries.Length];
        var cpu = new double[queries.Length];
        for (var i = 0; i < queries.Length; i++)
        {
            var c = ThreadCpuNs();
            var t = Stopwatch.GetTimestamp();
            search(queries[i]);
            us[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
            cpu[i] = (ThreadCpuNs() - c) / 1000.0;
        }
        Array.Sort(us);
        Array.Sort(cpu);
        if (metrics is not null && cpuKey is not null && OperatingSystem.IsLinux())
        {
            metrics[$"memory/query_p50_cpu_us_{cpuKey}"] = Percentile(cpu, 0.50);
            metrics[$"memory/query_p99_cpu_us_{cpuKey}"] = Percentile(cpu, 0.99);
        }
        return (Percentile(us, 0.50), Percentile(us, 0.99));
    }

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec ts);

    /// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID) in ns; 0 where unavailable.</summary>
    private static long ThreadCpuNs()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        ClockGetTime(3, out var ts);
        return ts.Seconds * 1_000_000_000 + ts.Nanoseconds;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static double Recall(EmbeddedVectorStore store, string collection, float[][] queries, ProgressTask? progress)
    {
        double found = 0;
        for (var i = 0; i < queries.Length; i++)
        {
            var exact = store.Search(collection, queries[i], 10, mode: SearchMode.BruteForce).Select(h => h.Id).ToHashSet();
            found += store.Search(collection, queries[i], 10, mode: SearchMode.Quantized).Count(h => exact.Contains(h.Id));
            if (progress is not null) progress.Value = (i + 1.0) / queries.Length;
        }
        return found / (10.0 * queries.Length);
    }

    /// <summary>Gaussian mixture with low-rank clusters (see <see cref="Describe"/>).</summary>
    private sealed class Mixture
    {
        private readonly float[][] _centres;
        private readonly float[][][] _bases;

        public Mixture(Random rng, int clusters, int latent)
        {
            _centres = Enumerable.Range(0, clusters).Select(_ => Normal(rng, Dim, 1f)).ToArray();
            _bases = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, latent).Select(_ => Normal(rng, Dim, 1f)).ToArray()).ToArray();
        }

        public float[] Sample(Random rng)
        {
            var c = rng.Next(_centres.Length);
            var v = Normal(rng, Dim, 0.1f);
            TensorPrimitives.Add(v, _centres[c], v);
            foreach (var b in _bases[c]) TensorPrimitives.MultiplyAdd(b, 0.25f * Gaussian(rng), v, v);
            return v;
        }
    }

    private static float Gaussian(Random rng) => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));

    private static float[] Normal(Random rng, int n, float sigma)
    {
        var v = new float[n];
        for (var i = 0; i < n; i++) v[i] = sigma * Gaussian(rng);
        return v;
    }

    private static void Report(Dictionary<string, double> metrics, string? json, string dataDescription)
    {
        var targets = new Dictionary<string, string>
        {
            ["memory/query_p99_us_10k_1024"] = "≤ 1000",
            ["memory/query_p99_us_100k_1024"] = "≤ 10000",
            ["memory/recall_at_10_100k_1024"] = "≥ 0.95",
            ["memory/exact_mismatch_queries_10k_1024"] = "= 0",
        };
        var table = new Table().AddColumns("metric", "value", "target");
        foreach (var (k, v) in metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            table.AddRow(Markup.Escape(k), v < 10 ? v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : v.ToString("F0", System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(targets.GetValueOrDefault(k, "")));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]data: {Markup.Escape(dataDescription)}[/]");
        AnsiConsole.MarkupLine($"[grey]1-minute load average at the end: {LoadAverage():F1} on {Environment.ProcessorCount} cores (wall-clock percentiles include time this thread waited for a core; *_cpu_* count only its own CPU time)[/]");
        if (json is not null)
            JsonMetrics.Write(json, metrics, new Dictionary<string, JsonNode?>
            {
                ["data"] = dataDescription,
                ["uniform_data"] = "i.i.d. uniform [-1, 1] components, 100k × 1024, 100 queries (worst case for quantisation)",
                ["threads"] = 1,
                ["search_modes"] = "10k: Exact (int8 intervals + float32 re-rank, answers equal brute force); 100k: Quantized (int8 scan of the first PrefilterDims rotated coordinates, full int8 score for PrefilterCandidates, float32 re-rank of k × RerankFactor)",
                ["machine_load_avg_1min"] = double.IsFinite(LoadAverage()) ? LoadAverage() : null,
            });
    }
}
