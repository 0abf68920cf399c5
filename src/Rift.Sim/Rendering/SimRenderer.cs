using System.Collections.Concurrent;
using Rift.Learning;
using Rift.Sim.Interop;

namespace Rift.Sim.Rendering;

/// <summary>
/// Offscreen camera frames of a model. The GL context (EGL surfaceless, or OSMesa) lives on a dedicated thread
/// that performs every GL call of this renderer; callers block until their frame is read back. Policy frames have
/// shadows, reflections, skybox and multisampling off; rows come out top-down (rgb24).
/// </summary>
public sealed unsafe class SimRenderer : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private readonly MjModel _model;
    private nint _renderer;

    public SimRenderer(MjModel model, int width, int height, string camera = "front", RenderBackend backend = RenderBackend.Auto, bool highQuality = false)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Frame size must be positive, got {width}x{height}.");
        _model = model;
        Width = width;
        Height = height;
        var cam = camera.Length == 0 ? -1 : model.Id(MjObject.Camera, camera);
        Exception? failure = null;
        using var ready = new ManualResetEventSlim();
        _thread = new Thread(() =>
        {
            try
            {
                var err = stackalloc byte[512];
                err[0] = 0;
                if (Native.rift_renderer_create(model.Handle, width, height, (int)backend, cam, 2000, out _renderer, err, 512) != 0)
                    throw new MujocoException($"Cannot create an offscreen renderer ({backend}, {width}x{height}) for '{model.Path}': {new string((sbyte*)err)}");
                if (highQuality)
                {
                    Native.rift_renderer_set_flag(_renderer, 0, 1); // mjRND_SHADOW
                }
                Backend = Native.rift_renderer_backend(_renderer) == 1 ? RenderBackend.Egl : RenderBackend.OSMesa;
            }
            catch (Exception e)
            {
                failure = e;
            }
            ready.Set();
            if (failure is not null) return;
            foreach (var job in _work.GetConsumingEnumerable()) job();
            Native.rift_renderer_free(_renderer);
            _renderer = 0;
        })
        {
            IsBackground = true,
            Name = $"rift-render-{Path.GetFileNameWithoutExtension(model.Path)}",
        };
        _thread.Start();
        ready.Wait();
        if (failure is not null)
        {
            _work.CompleteAdding();
            throw failure;
        }
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>The GL path in use (EGL or OSMesa).</summary>
    public RenderBackend Backend { get; private set; }

    /// <summary>Renders the current state of <paramref name="data"/> (which must belong to this renderer's model).</summary>
    public Frame Render(MjData data)
    {
        var rgb = new byte[Width * Height * 3];
        RenderInto(data, rgb);
        return new Frame(Width, Height, rgb);
    }

    /// <summary>Renders into a caller buffer of Width×Height×3 bytes.</summary>
    public void RenderInto(MjData data, byte[] rgb)
    {
        if (data.Model != _model) throw new ArgumentException("The data belongs to a different model than the renderer.", nameof(data));
        if (rgb.Length != Width * Height * 3) throw new ArgumentException($"Buffer has {rgb.Length} bytes, expected {Width * Height * 3}.", nameof(rgb));
        Exception? failure = null;
        using var done = new ManualResetEventSlim();
        if (_work.IsAddingCompleted) throw new ObjectDisposedException(nameof(SimRenderer));
        _work.Add(() =>
        {
            try
            {
                fixed (byte* p = rgb)
                    if (Native.rift_renderer_render(_renderer, _model.Handle, data.Handle, p) != 0)
                        failure = new MujocoException($"Rendering failed: {Native.LastError()}");
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                done.Set();
            }
        });
        done.Wait();
        if (failure is not null) throw failure;
    }

    public void Dispose()
    {
        if (_work.IsAddingCompleted) return;
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }
}
