using Rift.Agent.Bridge;
using Rift.Agent.Loop;
using Rift.Learning;
using Rift.Memory;
using Rift.ValueCritic;

namespace Rift.Agent.Online;

/// <summary>
/// A trained <c>rift train online</c> run rebuilt for serving (<c>rift serve --run</c>): the learned policy with
/// deterministic actions, the encoder the run used, critic + trigger, the recovery memory, the recovery policy and the
/// run's loop options, from the run folder's config.json and its latest checkpoint. Loading goes through the same code
/// as <see cref="OnlineTrainer.Resume"/> (the run's setup is rebuilt from its seed, then the checkpoint's weights are
/// loaded) on a private snapshot of the checkpoint and memory, so it never writes to the run folder.
/// <para>
/// Sessions (<see cref="Session"/>) each get their own loop options, critic smoother and trigger, fresh every episode
/// as in training; the networks are shared and called under one lock (they keep scratch buffers), the memory is shared
/// and read-only: recoveries made while serving are logged as events but not inserted, so serving never changes the
/// trained run and concurrent robots see the same memory.
/// </para>
/// </summary>
public sealed class DeployedAgent : IDisposable
{
    private readonly OnlineTrainer _run;
    private readonly Lock _gate = new();
    private readonly ArbitrationOptions _loop;

    private DeployedAgent(OnlineTrainer run, string runDir, string checkpoint, int episodesTrained, int checkpointMemoryItems)
    {
        _run = run;
        RunDirectory = runDir;
        Checkpoint = checkpoint;
        EpisodesTrained = episodesTrained;
        _loop = DefaultSessionFactory.CopyWithSeed(run.Settings.Arbitration, run.Settings.Arbitration.Seed);
        _loop.DeterministicPolicy = true;
        Policy = new LockedPolicy(run.Learner, _gate);
        if (run.Memory is { } memory)
        {
            Memory = new ReadOnlyMemory(memory);
            MemoryItemsAfterCheckpoint = Math.Max(0, memory.Count - checkpointMemoryItems);
        }
    }

    /// <summary>
    /// Loads the run in <paramref name="runDir"/> at <c>checkpoints/latest</c>. Throws <see cref="InvalidDataException"/>
    /// naming the problem for a folder that is not a run, has no checkpoint, or whose checkpoint or memory cannot be
    /// read; <see cref="ArgumentException"/> when <paramref name="expectedTask"/> is given and the run trained another task.
    /// </summary>
    /// <param name="setup">The run's setup when already built (tests); null rebuilds it from the run's seed, as resuming does.</param>
    public static DeployedAgent Load(string runDir, string? expectedTask = null, OnlineSetup? setup = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runDir);
        runDir = Path.GetFullPath(runDir);
        if (!Directory.Exists(runDir)) throw new InvalidDataException($"run folder {runDir} does not exist.");
        if (!File.Exists(Path.Combine(runDir, "config.json")))
            throw new InvalidDataException($"{runDir} is not a run folder of 'rift train online' (no config.json).");
        var latest = Path.Combine(runDir, "checkpoints", "latest");
        if (!File.Exists(latest))
            throw new InvalidDataException($"run {runDir} has no checkpoint (checkpoints/latest is missing): train it (or resume it) until a checkpoint is written.");
        var name = File.ReadAllText(latest).Trim();
        var dir = Path.Combine(runDir, "checkpoints", name);
        if (name.Length == 0 || name.IndexOfAny(['/', '\\']) >= 0 || !Directory.Exists(dir))
            throw new InvalidDataException($"run {runDir}: checkpoints/latest names '{name}', which is not a checkpoint folder.");

        // Work on a snapshot (config, memory, this checkpoint): the run folder is only read, so a run still training or
        // served twice is fine (the memory store takes a writer lock on the folder it opens).
        var snapshot = Snapshot(runDir, name);
        OnlineTrainer run;
        try
        {
            run = OnlineTrainer.Open(snapshot, setup);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException or ArgumentException or InvalidDataException or NotSupportedException)
        {
            DeleteSnapshot(snapshot);
            throw new InvalidDataException($"run {runDir}: config.json cannot be used ({e.Message})", e);
        }
        try
        {
            if (expectedTask is not null && run.Spec.Task != expectedTask)
                throw new ArgumentException($"run {runDir} trained task '{run.Spec.Task}', not '{expectedTask}'.", nameof(expectedTask));
            OnlineTrainer.CheckpointState state;
            try
            {
                state = run.LoadWeights(dir);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidDataException($"run {runDir}: checkpoint {name} cannot be loaded ({e.GetType().Name}: {e.Message})", e);
            }
            if (run.Memory is { } m && m.Count < state.MemoryIds.Length)
                throw new InvalidDataException($"run {runDir}: the recovery memory holds {m.Count} items, checkpoint {name} lists {state.MemoryIds.Length} (memory folder missing or damaged).");
            return new DeployedAgent(run, runDir, name, state.EpisodesDone, state.MemoryIds.Length);
        }
        catch
        {
            run.Dispose();
            DeleteSnapshot(snapshot);
            throw;
        }
    }

    private static string Snapshot(string runDir, string checkpoint)
    {
        var to = Path.Combine(Path.GetTempPath(), $"rift-deploy-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(Path.Combine(to, "checkpoints"));
            File.Copy(Path.Combine(runDir, "config.json"), Path.Combine(to, "config.json"));
            File.WriteAllText(Path.Combine(to, "checkpoints", "latest"), checkpoint);
            CopyTree(Path.Combine(runDir, "checkpoints", checkpoint), Path.Combine(to, "checkpoints", checkpoint));
            CopyTree(Path.Combine(runDir, "memory"), Path.Combine(to, "memory"));
            return to;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DeleteSnapshot(to);
            throw new InvalidDataException($"run {runDir}: cannot read checkpoint {checkpoint} or the memory ({e.Message})", e);
        }
    }

    private static void CopyTree(string from, string to)
    {
        if (!Directory.Exists(from)) return;
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from))
            if (Path.GetFileName(f) != "LOCK") File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.EnumerateDirectories(from)) CopyTree(d, Path.Combine(to, Path.GetFileName(d)));
    }

    private static void DeleteSnapshot(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The run folder served (never written: the agent works on a private snapshot of its checkpoint and memory).</summary>
    public string RunDirectory { get; }
    public OnlineRunSpec Spec => _run.Spec;
    public string Task => _run.Spec.Task;

    /// <summary>The run's configuration as trained (its config.json): e.g. the simulator and simulated human to test it against.</summary>
    public OnlineSettings Settings => _run.Settings;

    /// <summary>The checkpoint loaded (e.g. <c>ep00030</c>).</summary>
    public string Checkpoint { get; }

    /// <summary>Training episodes the checkpoint covers.</summary>
    public int EpisodesTrained { get; }

    /// <summary>The learned policy: always its deterministic action (the mean), safe to call from several sessions.</summary>
    public IPolicy Policy { get; }

    public int InputSize => Policy.InputSize;
    public int ActionSize => Policy.ActionSize;

    /// <summary>True when the run's method has the agent (rift, fa); otherwise sessions run policy + human only.</summary>
    public bool HasAgent => _run.AgentEnabled;

    /// <summary>The run's recovery memory, read-only (inserts are refused); null without agent.</summary>
    public IRecoveryMemory? Memory { get; }

    /// <summary>Items the memory holds beyond the checkpoint's (a run that went on after its last checkpoint); served as they are.</summary>
    public int MemoryItemsAfterCheckpoint { get; }

    /// <summary>The run's loop options (Arbitration section of its config) with deterministic policy actions; a copy.</summary>
    public ArbitrationOptions LoopOptions => DefaultSessionFactory.CopyWithSeed(_loop, _loop.Seed);

    /// <summary>
    /// Components for one robot session: the shared policy and networks, its own loop options (sampling seed
    /// <paramref name="seed"/>, else the run's), and its own critic smoother and trigger, renewed by
    /// <see cref="SessionComponents.BeginEpisode"/> every episode as in training.
    /// </summary>
    public SessionComponents Session(int? seed = null)
    {
        var agent = HasAgent ? new SessionAgent(_run, _gate, Memory!) : null;
        return new SessionComponents
        {
            Policy = Policy,
            Agent = agent?.Components,
            Loop = DefaultSessionFactory.CopyWithSeed(_loop, seed ?? _loop.Seed),
            BeginEpisode = agent is null ? null : agent.BeginEpisode,
        };
    }

    public void Dispose()
    {
        _run.Dispose();
        DeleteSnapshot(_run.RunDirectory);
    }

    // ---- Session components: per-episode critic smoother and trigger over shared, locked networks -------------------

    private sealed class SessionAgent
    {
        private readonly OnlineTrainer _run;
        private AgentComponents _episode;

        public SessionAgent(OnlineTrainer run, Lock gate, IRecoveryMemory memory)
        {
            _run = run;
            _episode = run.Agent()!;
            Components = new AgentComponents(
                new LockedEncoder(_episode.Encoder, gate), new EpisodeCritic(this, gate), new EpisodeTrigger(this), memory,
                new LockedRecoveryPolicy(_episode.RecoveryPolicy, gate));
        }

        public AgentComponents Components { get; }

        /// <summary>A new episode: a fresh smoother and trigger, as the trainer builds its agent per episode.</summary>
        public void BeginEpisode() => _episode = _run.Agent()!;

        private sealed class EpisodeCritic(SessionAgent s, Lock gate) : IValueCritic
        {
            private readonly int _embedding = s._episode.Critic.EmbeddingSize, _action = s._episode.Critic.ActionSize;
            public int EmbeddingSize => _embedding;
            public int ActionSize => _action;

            public float Evaluate(ReadOnlySpan<float> z, ReadOnlySpan<float> action)
            {
                lock (gate) return s._episode.Critic.Evaluate(z, action);
            }
        }

        private sealed class EpisodeTrigger(SessionAgent s) : IRiskTrigger
        {
            public void Reset() => s._episode.Trigger.Reset();
            public TriggerReason Update(float value) => s._episode.Trigger.Update(value);
        }
    }

    private sealed class LockedPolicy(IPolicy inner, Lock gate) : IPolicy
    {
        public int InputSize => inner.InputSize;
        public int ActionSize => inner.ActionSize;

        public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng)
        {
            lock (gate) inner.Act(input, action, deterministic: true, rng);
        }
    }

    private sealed class LockedEncoder(IFrameEncoder inner, Lock gate) : IFrameEncoder
    {
        public int Dimension => inner.Dimension;

        public void Encode(Observation observation, Span<float> z)
        {
            lock (gate) inner.Encode(observation, z);
        }
    }

    private sealed class LockedRecoveryPolicy(IGoalConditionedPolicy inner, Lock gate) : IGoalConditionedPolicy
    {
        public int InputSize => inner.InputSize;
        public int GoalSize => inner.GoalSize;
        public int ActionSize => inner.ActionSize;

        public void Act(ReadOnlySpan<float> input, ReadOnlySpan<float> goal, Span<float> action)
        {
            lock (gate) inner.Act(input, goal, action);
        }
    }

    /// <summary>Queries the run's memory; refuses inserts (serving never changes the trained run).</summary>
    private sealed class ReadOnlyMemory(IRecoveryMemory inner) : IRecoveryMemory
    {
        public int Count => inner.Count;
        public ulong? TryInsert(RecoverySegment segment) => null;
        public RecoveryTarget? Query(ReadOnlySpan<float> embedding, string task) => inner.Query(embedding, task);
    }
}
