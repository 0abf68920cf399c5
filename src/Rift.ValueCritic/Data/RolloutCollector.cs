namespace Rift.ValueCritic;

/// <summary>
/// Runs episodes on an environment that renders frames and records what the critic needs: actions, oracle
/// progress, frames (downsampled to the encoder's input side) and/or embeddings from a frozen encoder.
/// </summary>
public sealed class RolloutCollector
{
    private readonly IEnvironment _env;
    private readonly Func<IExpert> _expertFactory;
    private readonly PerturbedExpertOptions _baseOptions;

    public RolloutCollector(IEnvironment env, Func<IExpert> expertFactory, PerturbedExpertOptions baseOptions)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _expertFactory = expertFactory ?? throw new ArgumentNullException(nameof(expertFactory));
        _baseOptions = baseOptions ?? throw new ArgumentNullException(nameof(baseOptions));
    }

    /// <summary>Side of stored frames (0: keep none).</summary>
    public int FrameSize { get; init; }

    /// <summary>Encoder for embeddings (null: keep none).</summary>
    public IFrameEncoder? Encoder { get; init; }

    /// <summary>Std of action noise on expert demonstrations. Default 0.05.</summary>
    public double ExpertNoise { get; init; } = 0.05;

    /// <summary>Supervisor delay after a lapse starts before the expert takes over (intervention episodes). Default 4..12 steps.</summary>
    public (int Min, int Max) TakeoverDelay { get; init; } = (4, 12);

    /// <summary>Called with (environment, policy, episode, step) before each action, e.g. to label counterfactually.</summary>
    public Action<IEnvironment, PerturbedExpertPolicy, RolloutEpisode, Observation>? BeforeStep { get; init; }

    public RolloutEpisode Run(RolloutKind kind, int seed)
    {
        var policy = new PerturbedExpertPolicy(_expertFactory(), _baseOptions, _env.Spec.MaxEpisodeSteps);
        var expert = _expertFactory();
        expert.Reset();
        switch (kind)
        {
            case RolloutKind.Expert: policy.Reset(seed, forceLapse: false, noise: ExpertNoise); break;
            case RolloutKind.Intervention: policy.Reset(seed, forceLapse: true); break;
            default: policy.Reset(seed); break;
        }
        var ep = new RolloutEpisode { Kind = kind, Seed = seed };
        var takeover = kind == RolloutKind.Intervention
            ? policy.LapseStart + TakeoverDelay.Min + new Random(seed ^ 0x5bd1e995).Next(TakeoverDelay.Max - TakeoverDelay.Min + 1)
            : int.MaxValue;
        var (obs, info) = _env.Reset(seed);
        Record(ep, obs, info.Progress);
        var a = new float[_env.Spec.ActionSize];
        for (var t = 0; ; t++)
        {
            if (t >= takeover)
            {
                if (ep.InterventionStart < 0) ep.InterventionStart = t;
                expert.Act(obs, a);
            }
            else
            {
                BeforeStep?.Invoke(_env, policy, ep, obs);
                policy.Act(obs, a);
            }
            ep.Actions.Add((float[])a.Clone());
            var r = _env.Step(a);
            obs = r.Observation;
            Record(ep, obs, r.Info.Progress);
            if (r.Terminated || r.Truncated)
            {
                ep.Success = r.Info.Success;
                break;
            }
        }
        return ep;
    }

    private void Record(RolloutEpisode ep, Observation obs, double progress)
    {
        ep.Progress.Add(progress);
        if (FrameSize > 0)
        {
            var f = obs.Frame ?? throw new InvalidOperationException("RolloutCollector needs frames: create the environment with RenderFrames = true.");
            ep.Frames.Add(Downsample(f, FrameSize));
        }
        if (Encoder is not null)
        {
            var z = new float[Encoder.Dimension];
            Encoder.Encode(obs, z);
            ep.Embeddings.Add(z);
        }
    }

    /// <summary>Area-averaged rgb24 copy of <paramref name="frame"/> at <paramref name="size"/>².</summary>
    public static byte[] Downsample(Frame frame, int size)
    {
        if (frame.Width == size && frame.Height == size) return (byte[])frame.Rgb.Clone();
        var chw = new float[3 * size * size];
        FramePreprocessor.ToChw(frame, size, chw);
        var plane = size * size;
        var rgb = new byte[3 * plane];
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++)
                rgb[3 * i + c] = (byte)Math.Clamp(MathF.Round((chw[c * plane + i] + 1f) * 127.5f), 0, 255);
        return rgb;
    }
}
