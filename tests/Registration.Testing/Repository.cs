namespace Registration.Testing;

/// <summary>
/// Files of the repository, found from the running assembly by walking up to Registration.slnx: the
/// deployment files the tests read, and the services' build output a child process runs.
/// </summary>
public static class Repository
{
    public const string SolutionFile = "Registration.slnx";

    private static readonly DirectoryInfo OutputDirectory = new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));

    public static string Root { get; } = FindRoot();

    /// <summary>Full path of a repository-relative path written with '/' (as in the deployment files).</summary>
    public static string PathOf(string relativePath) =>
        Path.GetFullPath(Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar)));

    public static string ReadText(string relativePath) => File.ReadAllText(PathOf(relativePath));

    public static bool Exists(string relativePath)
    {
        var path = PathOf(relativePath);
        return File.Exists(path) || Directory.Exists(path);
    }

    /// <summary>Repository-relative path with '/' separators, or null when outside the repository.</summary>
    public static string? RelativePathOf(string fullPath)
    {
        var relative = Path.GetRelativePath(Root, Path.GetFullPath(fullPath));
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)
            ? null
            : relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    /// <summary>
    /// <c>services/{service}/bin/{Configuration}/{tfm}/{service}.dll</c>, built in the configuration of the
    /// running assembly (whose output is <c>.../bin/{Configuration}/{tfm}/</c>): the tests run the Debug
    /// build that <c>dotnet build</c> made, the benchmark the Release one.
    /// </summary>
    public static string ServiceDll(string service)
    {
        var dll = Path.Combine(Root, "services", service, "bin", OutputDirectory.Parent!.Name, OutputDirectory.Name, service + ".dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{dll} is missing: build it first (dotnet build Registration.slnx, or scripts/bench.sh for Release).");
    }

    private static string FindRoot()
    {
        for (var directory = OutputDirectory; directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFile)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No {SolutionFile} above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}
