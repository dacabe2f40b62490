using System.Xml.Linq;

namespace Registration.Testing.Deployment;

/// <summary>What the deployment files need to know of a .csproj (read as XML, no MSBuild evaluation).</summary>
public sealed class MsBuildProject
{
    private readonly XDocument _document;

    private MsBuildProject(string relativePath, XDocument document)
    {
        RelativePath = relativePath;
        _document = document;
    }

    public string RelativePath { get; }

    public string Sdk => _document.Root?.Attribute("Sdk")?.Value ?? string.Empty;

    /// <summary>AssemblyName, else the project file's name.</summary>
    public string AssemblyName =>
        _document.Descendants("AssemblyName").Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0)
        ?? Path.GetFileNameWithoutExtension(RelativePath);

    public IEnumerable<string> FrameworkReferences =>
        _document.Descendants("FrameworkReference").Select(e => e.Attribute("Include")?.Value ?? string.Empty);

    /// <summary>
    /// Needs the ASP.NET Core shared framework (aspnet image) rather than the .NET runtime alone: itself, or
    /// through a project it references (a framework reference flows to the projects that reference it).
    /// </summary>
    public bool NeedsAspNetCore => WithReferencedProjects().Select(Load).Any(project => project.ReferencesAspNetCore);

    private bool ReferencesAspNetCore =>
        Sdk.Equals("Microsoft.NET.Sdk.Web", StringComparison.OrdinalIgnoreCase)
        || FrameworkReferences.Contains("Microsoft.AspNetCore.App", StringComparer.OrdinalIgnoreCase);

    /// <summary>Repository-relative paths of the direct project references.</summary>
    public IEnumerable<string> ProjectReferences =>
        _document.Descendants("ProjectReference")
            .Select(e => e.Attribute("Include")?.Value.Replace('\\', '/') ?? string.Empty)
            .Select(include => Repository.RelativePathOf(Path.Combine(Path.GetDirectoryName(Repository.PathOf(RelativePath))!, include))
                ?? throw new InvalidOperationException($"{RelativePath} references '{include}' outside the repository."));

    public static MsBuildProject Load(string relativePath) => new(relativePath, XDocument.Load(Repository.PathOf(relativePath)));

    /// <summary>This project and every project it references, directly or not.</summary>
    public IReadOnlySet<string> WithReferencedProjects()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([RelativePath]);
        while (pending.TryPop(out var path))
        {
            if (seen.Add(path))
            {
                foreach (var reference in Load(path).ProjectReferences)
                {
                    pending.Push(reference);
                }
            }
        }

        return seen;
    }

    /// <summary>The projects of Registration.slnx and everything they reference.</summary>
    public static IReadOnlySet<string> SolutionProjects()
    {
        var solution = XDocument.Load(Repository.PathOf(Repository.SolutionFile));
        return solution.Descendants("Project")
            .Select(e => e.Attribute("Path")!.Value.Replace('\\', '/'))
            .SelectMany(path => Load(path).WithReferencedProjects())
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The TargetFramework's version from Directory.Build.props, e.g. "10.0" for net10.0.</summary>
    public static string TargetFrameworkVersion()
    {
        var props = XDocument.Load(Repository.PathOf("Directory.Build.props"));
        var framework = props.Descendants("TargetFramework").Single().Value.Trim();
        return framework.StartsWith("net", StringComparison.Ordinal)
            ? framework["net".Length..]
            : throw new InvalidOperationException($"Unexpected TargetFramework '{framework}'.");
    }
}
