using Rift.Learning;
using Rift.Sim;
using Rift.ValueCritic;

namespace Rift.Agent.Online;

/// <summary>The embedding space the online agent (critic, memory, recovery goals) works in (<see cref="OnlineOptions.Encoder"/>).</summary>
public enum OnlineEncoder
{
    /// <summary>Proprio and object state standardised with demonstration statistics (<see cref="StateFeatureEncoder"/>); no rendering.</summary>
    State = 0,

    /// <summary>The camera frame of every step, rendered and encoded by the frozen <see cref="ConvFrameEncoder"/> (models/encoder/{task}.safetensors).</summary>
    Conv = 1,
}

/// <summary>
/// Encodes each observation's camera frame once with the frozen <see cref="ConvFrameEncoder"/> and hands on the
/// observation with <see cref="Observation.Embedding"/> = z (frame dropped), so the loop's
/// <see cref="ExternalEmbeddingEncoder"/> reads z without encoding again; records z_0..z_T of the current episode for
/// the critic, memory and recovery-policy fits.
/// </summary>
public sealed class FrameEmbeddingEnvironment(IEnvironment inner, ConvFrameEncoder encoder) : IEnvironment
{
    private readonly List<float[]> _z = [];

    /// <summary>z of every observation since the last <see cref="Reset"/>.</summary>
    public IReadOnlyList<float[]> Embeddings => _z;

    public ConvFrameEncoder Encoder { get; } = encoder;
    public EnvSpec Spec => inner.Spec;

    public (Observation Observation, StepInfo Info) Reset(int seed)
    {
        var (obs, info) = inner.Reset(seed);
        _z.Clear();
        return (Embed(obs), info);
    }

    public StepResult Step(ReadOnlySpan<float> action)
    {
        var r = inner.Step(action);
        return r with { Observation = Embed(r.Observation) };
    }

    private Observation Embed(Observation obs)
    {
        var z = new float[Encoder.Dimension];
        Encoder.Encode(obs, z);
        _z.Add(z);
        return new Observation { Proprio = obs.Proprio, ObjectState = obs.ObjectState, Embedding = z };
    }

    public byte[] CaptureState() => inner.CaptureState();
    public void RestoreState(byte[] state) => inner.RestoreState(state);
    public void Dispose() { }

    /// <summary>
    /// The simulation environment of <paramref name="task"/>: with <paramref name="frames"/>, rendering camera frames
    /// (Sim:RenderFrames) and wrapped in a <see cref="FrameEmbeddingEnvironment"/>, else as configured.
    /// </summary>
    public static (SimEnvironment Sim, FrameEmbeddingEnvironment? Frames) Create(string task, SimOptions sim, ConvFrameEncoder? frames)
    {
        if (frames is null) return (SimTasks.Create(task, sim), null);
        var o = RiftJson.Copy(sim);
        o.RenderFrames = true;
        var env = SimTasks.Create(task, o);
        return (env, new FrameEmbeddingEnvironment(env, frames));
    }

    /// <summary>The frozen encoder for <paramref name="task"/> at <paramref name="path"/> (empty: models/encoder/{task}.safetensors).</summary>
    public static ConvFrameEncoder LoadEncoder(string task, string? path)
    {
        var p = string.IsNullOrWhiteSpace(path) ? ConvFrameEncoder.DefaultPath(task) : path;
        if (!File.Exists(p))
            throw new ArgumentException($"Online:Encoder=conv needs the frozen frame encoder {p}; train it with `./rift train encoder --task {task}` or use Online:Encoder=state.");
        return ConvFrameEncoder.Load(p);
    }

    /// <summary>
    /// z of a policy input array of <paramref name="episodes"/> (looked up by reference, so the inputs of
    /// <see cref="ExperienceEpisode.Stretches"/> map to their frames' embeddings), else <paramref name="fallback"/>'s state embedding.
    /// </summary>
    public static Func<float[], float[]> Lookup(IEnumerable<ExperienceEpisode> episodes, StateFeatureEncoder fallback)
    {
        var map = new Dictionary<float[], float[]>(ReferenceEqualityComparer.Instance);
        foreach (var e in episodes)
            if (e.Embeddings is { } z)
                for (var t = 0; t < z.Count; t++) map[e.Inputs[t]] = z[t];
        return x => map.TryGetValue(x, out var z) ? z : fallback.Encode(x);
    }
}

/// <summary>
/// The loop's encoder under Online:Encoder=Conv: z precomputed by <see cref="FrameEmbeddingEnvironment"/>
/// (<see cref="Observation.Embedding"/>) when present, else the frozen conv encoder on <see cref="Observation.Frame"/>
/// (e.g. a served robot's camera, <c>rift serve --run</c>).
/// </summary>
public sealed class FrameEmbeddingEncoder(ConvFrameEncoder frames) : IFrameEncoder
{
    private readonly ExternalEmbeddingEncoder _precomputed = new(frames.Dimension);
    public int Dimension => frames.Dimension;

    public void Encode(Observation observation, Span<float> z)
    {
        if (observation.Embedding is not null) _precomputed.Encode(observation, z);
        else frames.Encode(observation, z);
    }
}
