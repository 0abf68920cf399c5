namespace Rift.Learning;

/// <summary>Locates the repository's data folders (<c>models/</c>, <c>runs/</c>).</summary>
public static class RiftPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>
    /// The Rift root: <c>RIFT_HOME</c> if set, else the nearest ancestor of the executable (or of the working
    /// directory) holding a <c>models/</c> folder.
    /// </summary>
    public static string Root => RootPath.Value;

    public static string Models => Path.Combine(Root, "models");

    public static string Runs => Path.Combine(Root, "runs");

    private static string FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("RIFT_HOME");
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "models")) && File.Exists(Path.Combine(dir.FullName, "Rift.sln")))
                    return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
