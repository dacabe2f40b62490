namespace Registration.Testing.Deployment;

/// <summary>A Dockerfile split into stages and instructions (continuation lines joined, comments dropped).</summary>
public sealed class Dockerfile
{
    private Dockerfile(string relativePath, IReadOnlyList<DockerStage> stages)
    {
        RelativePath = relativePath;
        Stages = stages;
    }

    public string RelativePath { get; }

    public IReadOnlyList<DockerStage> Stages { get; }

    public DockerStage FinalStage => Stages[^1];

    public static Dockerfile Load(string relativePath)
    {
        var stages = new List<DockerStage>();
        foreach (var instruction in Instructions(Repository.ReadText(relativePath)))
        {
            if (instruction.Keyword == "FROM")
            {
                var words = instruction.Words;
                var image = words.First(word => !word.StartsWith("--", StringComparison.Ordinal));
                var asIndex = words.FindIndex(word => word.Equals("AS", StringComparison.OrdinalIgnoreCase));
                var name = asIndex >= 0 && asIndex + 1 < words.Count ? words[asIndex + 1] : null;
                var fromStage = stages.Any(stage => string.Equals(stage.Name, image, StringComparison.OrdinalIgnoreCase));
                stages.Add(new DockerStage(image, name, fromStage));
            }
            else if (stages.Count == 0)
            {
                // ARG before the first FROM: not used by these Dockerfiles.
                continue;
            }
            else
            {
                stages[^1].Instructions.Add(instruction);
            }
        }

        return stages.Count > 0 ? new Dockerfile(relativePath, stages) : throw new FormatException($"{relativePath} has no FROM.");
    }

    private static IEnumerable<DockerInstruction> Instructions(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var current = new List<string>();
        var startLine = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd();
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith('#') || (trimmed.Length == 0 && current.Count == 0))
            {
                continue;
            }

            if (current.Count == 0)
            {
                startLine = i + 1;
            }

            var continues = line.EndsWith('\\');
            current.Add(continues ? line[..^1] : line);
            if (!continues)
            {
                var joined = string.Join(' ', current).Trim();
                current.Clear();
                var space = joined.IndexOfAny([' ', '\t']);
                yield return space < 0
                    ? new DockerInstruction(joined.ToUpperInvariant(), string.Empty, startLine)
                    : new DockerInstruction(joined[..space].ToUpperInvariant(), joined[(space + 1)..].Trim(), startLine);
            }
        }
    }
}

/// <summary>One <c>FROM</c> and what follows it.</summary>
public sealed class DockerStage(string baseImage, string? name, bool baseIsStage)
{
    public string BaseImage { get; } = baseImage;

    public string? Name { get; } = name;

    /// <summary>True when <c>FROM</c> names an earlier stage rather than an image.</summary>
    public bool BaseIsStage { get; } = baseIsStage;

    public List<DockerInstruction> Instructions { get; } = [];

    public IEnumerable<DockerCopy> Copies => Instructions
        .Where(instruction => instruction.Keyword is "COPY" or "ADD")
        .Select(DockerCopy.Parse);
}

public sealed record DockerInstruction(string Keyword, string Arguments, int Line)
{
    /// <summary>The arguments as words (exec form parsed as JSON, shell form split on whitespace).</summary>
    public List<string> Words => IsExecForm
        ? JsonSerializer.Deserialize<List<string>>(Arguments) ?? []
        : [.. Arguments.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)];

    public bool IsExecForm => Arguments.StartsWith('[');
}

/// <summary>A <c>COPY</c>/<c>ADD</c>: its flags, sources and destination.</summary>
public sealed record DockerCopy(IReadOnlyList<string> Sources, string Destination, string? From, int Line)
{
    public static DockerCopy Parse(DockerInstruction instruction)
    {
        var flags = instruction.Arguments.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .TakeWhile(word => word.StartsWith("--", StringComparison.Ordinal))
            .ToList();
        var rest = instruction.Arguments;
        foreach (var flag in flags)
        {
            rest = rest[(rest.IndexOf(flag, StringComparison.Ordinal) + flag.Length)..];
        }

        var words = new DockerInstruction(instruction.Keyword, rest.Trim(), instruction.Line).Words;
        var from = flags.FirstOrDefault(flag => flag.StartsWith("--from=", StringComparison.Ordinal))?["--from=".Length..];
        return new DockerCopy(words[..^1], words[^1], from, instruction.Line);
    }
}
