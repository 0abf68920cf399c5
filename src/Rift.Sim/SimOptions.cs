using System.ComponentModel.DataAnnotations;

namespace Rift.Sim;

/// <summary>Which offscreen GL path renders camera frames.</summary>
public enum RenderBackend
{
    /// <summary>EGL surfaceless (Mesa) first, OSMesa if EGL is unavailable.</summary>
    Auto = 0,
    Egl = 1,
    OSMesa = 2,
}

/// <summary>Simulation environments (configuration section <c>Sim</c>).</summary>
public sealed class SimOptions
{
    /// <summary>Render a camera frame into every observation. Default false: state-based RL runs without frames and much faster.</summary>
    public bool RenderFrames { get; set; }

    /// <summary>Side of the square camera frame in pixels. Default 128.</summary>
    [Range(16, 2048)]
    public int FrameSize { get; set; } = 128;

    /// <summary>Fixed camera of the scene used for frames: "front" (default) or "top".</summary>
    [Required]
    public string Camera { get; set; } = "front";

    /// <summary>Offscreen rendering path: Auto (EGL surfaceless, then OSMesa; default), Egl or OSMesa.</summary>
    public RenderBackend RenderBackend { get; set; } = RenderBackend.Auto;

    /// <summary>Control rate in Hz; each step runs timestep⁻¹/ControlHz physics substeps (4 ms timestep). Default 10.</summary>
    [Range(1.0, 250.0)]
    public double ControlHz { get; set; } = 10.0;

    /// <summary>Gripper displacement in metres per step for an action component of ±1. Default 0.03.</summary>
    [Range(0.001, 0.2)]
    public double ActionScale { get; set; } = 0.03;

    /// <summary>Episode time limit in steps; 0 (default) uses the task's own limit (push 60, peg-insert 60, pick-place 80).</summary>
    [Range(0, 100000)]
    public int MaxEpisodeSteps { get; set; }

    /// <summary>Folder holding the MJCF scenes; empty (default) uses the repository's <c>models/</c>.</summary>
    public string ModelsDirectory { get; set; } = "";
}
