using System.Runtime.InteropServices;

namespace Rift.Sim.Interop;

/// <summary>
/// Entry points of the native shim (<c>native/rift_mujoco.c</c>, built by gcc during <c>dotnet build</c>) and of
/// <c>libmujoco.so.2.2.2</c>. Calls that can raise a MuJoCo error go through the shim, which returns -1 and keeps
/// the message instead of letting MuJoCo exit the process.
/// </summary>
internal static unsafe partial class Native
{
    private const string Shim = "rift_mujoco";
    private const string MuJoCo = "libmujoco.so.2.2.2";

    static Native() => rift_install_handlers();

    /// <summary>Forces the static constructor (handler installation) before the first MuJoCo call.</summary>
    internal static void EnsureInitialised() { }

    [LibraryImport(Shim)] internal static partial void rift_install_handlers();
    [LibraryImport(Shim)] internal static partial nint rift_last_error();
    [LibraryImport(Shim)] internal static partial int rift_warning_count();
    [LibraryImport(Shim)] internal static partial nint rift_last_warning();

    [LibraryImport(Shim, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rift_load_xml(string path, byte* err, int errlen, out nint model);

    [LibraryImport(Shim)] internal static partial int rift_make_data(nint m, out nint data);
    [LibraryImport(Shim)] internal static partial int rift_reset_data(nint m, nint d);
    [LibraryImport(Shim)] internal static partial int rift_forward(nint m, nint d);
    [LibraryImport(Shim)] internal static partial int rift_step(nint m, nint d, int n);
    [LibraryImport(Shim)] internal static partial void rift_delete_model(nint m);
    [LibraryImport(Shim)] internal static partial void rift_delete_data(nint d);
    [LibraryImport(Shim)] internal static partial int rift_data_warnings(nint d);

    [LibraryImport(Shim, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rift_model_array(nint m, string name, out nint ptr, out int rows, out int cols, out int type, out int elem);

    [LibraryImport(Shim, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rift_model_int(nint m, string name, out int value);

    [LibraryImport(Shim, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rift_model_option(nint m, string name, out nint ptr, out int type);

    [LibraryImport(Shim, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rift_data_array(nint m, nint d, string name, out nint ptr, out int rows, out int cols, out int type, out int elem);

    [LibraryImport(Shim, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rift_data_scalar(nint d, string name, out nint ptr, out int type);

    [LibraryImport(Shim)] internal static partial int rift_contact_geoms(nint d, int i, out int geom1, out int geom2, out double dist);

    [LibraryImport(Shim)]
    internal static partial int rift_renderer_create(nint m, int width, int height, int backend, int camera, int maxgeom, out nint renderer, byte* err, int errlen);

    [LibraryImport(Shim)] internal static partial int rift_renderer_backend(nint r);
    [LibraryImport(Shim)] internal static partial void rift_renderer_set_flag(nint r, int flag, int value);
    [LibraryImport(Shim)] internal static partial int rift_renderer_render(nint r, nint m, nint d, byte* rgb);
    [LibraryImport(Shim)] internal static partial void rift_renderer_free(nint r);

    [LibraryImport(MuJoCo, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mj_name2id(nint m, int type, string name);

    [LibraryImport(MuJoCo)] internal static partial int mj_version();

    internal static string LastError() => Marshal.PtrToStringUTF8(rift_last_error()) ?? "";
}

/// <summary>MuJoCo object types (<c>mjtObj</c>) used for name lookups.</summary>
public enum MjObject
{
    Body = 1,
    Joint = 3,
    Geom = 5,
    Site = 6,
    Camera = 7,
    Equality = 16,
    Actuator = 18,
}

/// <summary>A MuJoCo error turned into an exception (MuJoCo would otherwise exit the process).</summary>
public sealed class MujocoException(string message) : Exception(message);
