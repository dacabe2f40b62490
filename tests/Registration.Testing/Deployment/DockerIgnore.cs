using System.Text.RegularExpressions;

namespace Registration.Testing.Deployment;

/// <summary>
/// The root .dockerignore, matched as Docker does: patterns relative to the context root,
/// <c>**</c> any number of directories, <c>!</c> re-includes, the last matching pattern wins,
/// and a path is excluded when one of its parent directories is.
/// </summary>
public sealed class DockerIgnore
{
    public const string RelativePath = ".dockerignore";

    private readonly IReadOnlyList<(Regex Pattern, bool Exclude)> _rules;

    private DockerIgnore(IReadOnlyList<(Regex Pattern, bool Exclude)> rules) => _rules = rules;

    public static DockerIgnore Load() => Parse(Repository.ReadText(RelativePath));

    public static DockerIgnore Parse(string text) => new(text
        .Split('\n')
        .Select(line => line.Trim())
        .Where(line => line.Length > 0 && !line.StartsWith('#'))
        .Select(line => line.StartsWith('!') ? (ToRegex(line[1..]), false) : (ToRegex(line), true))
        .ToArray());

    /// <summary>True when a repository-relative path (with '/') is left out of the build context.</summary>
    public bool IsIgnored(string relativePath)
    {
        var parts = relativePath.Trim('/').Split('/');
        for (var length = 1; length <= parts.Length; length++)
        {
            if (Matches(string.Join('/', parts[..length])))
            {
                return true;
            }
        }

        return false;
    }

    private bool Matches(string path)
    {
        var ignored = false;
        foreach (var (pattern, exclude) in _rules)
        {
            if (pattern.IsMatch(path))
            {
                ignored = exclude;
            }
        }

        return ignored;
    }

    private static Regex ToRegex(string pattern)
    {
        var cleaned = pattern.Trim().Trim('/');
        var regex = new StringBuilder("^");
        for (var i = 0; i < cleaned.Length; i++)
        {
            var c = cleaned[i];
            if (c == '*' && i + 1 < cleaned.Length && cleaned[i + 1] == '*')
            {
                // "**/" matches zero or more directories; a trailing "**" anything below.
                var slash = i + 2 < cleaned.Length && cleaned[i + 2] == '/';
                regex.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }

        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
