namespace Resilience.Tests.Support;

/// <summary>
/// Where the services' build outputs are. The test assembly sits in
/// <c>tests/Resilience.Tests/bin/&lt;Configuration&gt;/&lt;tfm&gt;/</c>; the worker it references is built
/// by the same <c>dotnet build</c> into <c>services/Notification.Worker/bin/&lt;Configuration&gt;/&lt;tfm&gt;/</c>.
/// </summary>
public static class Repository
{
    private static readonly DirectoryInfo OutputDirectory = new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));

    /// <summary>The directory holding Registration.slnx.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The worker as <c>dotnet Notification.Worker.dll</c> runs it in production.</summary>
    public static string WorkerDll
    {
        get
        {
            var dll = Path.Combine(
                Root, "services", "Notification.Worker", "bin", OutputDirectory.Parent!.Name, OutputDirectory.Name, "Notification.Worker.dll");
            return File.Exists(dll)
                ? dll
                : throw new FileNotFoundException($"{dll} is missing: build the solution (dotnet build Registration.slnx) first.");
        }
    }

    private static string FindRoot()
    {
        for (var directory = OutputDirectory; directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Registration.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Registration.slnx not found above {OutputDirectory.FullName}.");
    }
}
