using System.Runtime.InteropServices;

namespace Rift.Sim.Interop;

/// <summary>Process-wide MuJoCo state: version and warnings raised through <c>mju_user_warning</c>.</summary>
public static class Mujoco
{
    private static int _seen;

    /// <summary>Raised (on the thread that notices it) for each MuJoCo warning. Default: none; hosts log them.</summary>
    public static event Action<string>? Warning;

    /// <summary>MuJoCo's version as an integer (222 for 2.2.2).</summary>
    public static int Version
    {
        get
        {
            Native.EnsureInitialised();
            return Native.mj_version();
        }
    }

    /// <summary>Warnings raised through MuJoCo's warning handler since the process started.</summary>
    public static int WarningCount
    {
        get
        {
            Native.EnsureInitialised();
            return Native.rift_warning_count();
        }
    }

    /// <summary>Reports warnings raised since the last poll through <see cref="Warning"/>.</summary>
    internal static void PollWarnings()
    {
        var n = Native.rift_warning_count();
        if (n == Volatile.Read(ref _seen)) return;
        Volatile.Write(ref _seen, n);
        var text = Marshal.PtrToStringUTF8(Native.rift_last_warning()) ?? "";
        Warning?.Invoke(text);
    }
}
