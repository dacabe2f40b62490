namespace Deployment.Tests.Infrastructure;

/// <summary>Files of the repository, found from the test assembly by walking up to Registration.slnx.</summary>
internal static class Repository
{
    public const string SolutionFile = "Registration.slnx";

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

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFile)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No {SolutionFile} above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}
