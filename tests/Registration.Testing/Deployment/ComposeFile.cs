using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Registration.Testing.Deployment;

/// <summary>
/// deploy/docker-compose.yml as Compose reads it: YAML with anchors and merge keys, values
/// interpolated from the given variables (what deploy/.env would hold; none for a clean clone), and
/// optionally override files merged onto it as <c>docker compose -f a.yml -f b.yml</c> merges them.
/// </summary>
public sealed class ComposeFile
{
    public const string RelativePath = "deploy/docker-compose.yml";
    public const string EnvExampleRelativePath = "deploy/.env.example";

    /// <summary>The override that runs API replicas behind nginx and several workers.</summary>
    public const string ScaledOverrideRelativePath = "deploy/docker-compose.scaled.yml";

    private ComposeFile(
        IReadOnlyDictionary<string, ComposeService> services, IReadOnlyCollection<string> volumes,
        IReadOnlyDictionary<string, object?> networks, ComposeInterpolation? interpolation)
    {
        Services = services;
        Volumes = volumes;
        Networks = networks;
        Interpolation = interpolation;
    }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    /// <summary>Named volumes declared at the top level.</summary>
    public IReadOnlyCollection<string> Volumes { get; }

    /// <summary>Networks declared at the top level, as plain values.</summary>
    public IReadOnlyDictionary<string, object?> Networks { get; }

    /// <summary>What interpolation met; null when loaded uninterpolated.</summary>
    public ComposeInterpolation? Interpolation { get; }

    /// <summary>Directory of the compose file, against which its relative paths resolve (repository-relative).</summary>
    public static string Directory => Path.GetDirectoryName(RelativePath)!.Replace('\\', '/');

    /// <summary>As on a clean clone: no deploy/.env, every variable at its default.</summary>
    public static ComposeFile LoadWithDefaults() => Load(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>As after <c>cp deploy/.env.example deploy/.env</c>.</summary>
    public static ComposeFile LoadWithEnvExample() => Load(EnvFile.Read(EnvExampleRelativePath));

    /// <summary>The scaled deployment on a clean clone: the compose file with the scaled override.</summary>
    public static ComposeFile LoadScaledWithDefaults() =>
        Load(new Dictionary<string, string>(StringComparer.Ordinal), RelativePath, ScaledOverrideRelativePath);

    /// <summary>The scaled deployment after <c>cp deploy/.env.example deploy/.env</c>.</summary>
    public static ComposeFile LoadScaledWithEnvExample() =>
        Load(EnvFile.Read(EnvExampleRelativePath), RelativePath, ScaledOverrideRelativePath);

    /// <summary>The values as written, <c>${...}</c> left in place.</summary>
    public static ComposeFile LoadUninterpolated() => Parse(scalar => scalar, interpolation: null, [RelativePath]);

    public static ComposeFile Load(IReadOnlyDictionary<string, string> variables) => Load(variables, RelativePath);

    /// <summary>The files merged in order, as <c>docker compose -f first -f second ...</c> does.</summary>
    public static ComposeFile Load(IReadOnlyDictionary<string, string> variables, params string[] relativePaths)
    {
        var interpolation = new ComposeInterpolation(variables);
        return Parse(interpolation.Interpolate, interpolation, relativePaths);
    }

    public ComposeService Service(string name) =>
        Services.TryGetValue(name, out var service)
            ? service
            : throw new KeyNotFoundException($"{RelativePath} has no service '{name}' (it has {string.Join(", ", Services.Keys)}).");

    /// <summary>Repository-relative path of a path written relative to the compose file.</summary>
    public static string RepositoryPathOf(string composeRelativePath)
    {
        var full = Path.GetFullPath(Path.Combine(Repository.PathOf(Directory), composeRelativePath));
        return Repository.RelativePathOf(full) ?? throw new InvalidOperationException($"'{composeRelativePath}' leaves the repository.");
    }

    private static ComposeFile Parse(Func<string, string> interpolate, ComposeInterpolation? interpolation, string[] relativePaths)
    {
        IReadOnlyDictionary<string, object?>? root = null;
        foreach (var path in relativePaths)
        {
            var stream = new YamlStream();
            using (var reader = new StringReader(Repository.ReadText(path)))
            {
                // MergingParser resolves the `<<: *anchor` merge keys Compose supports.
                stream.Load(new MergingParser(new Parser(reader)));
            }

            var file = Yaml.ToPlain(stream.Documents.Single().RootNode, interpolate) as IReadOnlyDictionary<string, object?>
                ?? throw new InvalidOperationException($"{path} is not a mapping.");
            root = (IReadOnlyDictionary<string, object?>)Yaml.Merge(root ?? new Dictionary<string, object?>(StringComparer.Ordinal), file)!;
        }

        var services = (Yaml.Mapping(root!, "services") ?? throw new InvalidOperationException($"{relativePaths[0]} has no services."))
            .ToDictionary(
                entry => entry.Key,
                entry => new ComposeService(entry.Key, entry.Value as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>()),
                StringComparer.Ordinal);
        var volumes = Yaml.Mapping(root!, "volumes")?.Keys.ToArray() ?? [];
        return new ComposeFile(services, volumes, Yaml.Mapping(root!, "networks") ?? new Dictionary<string, object?>(), interpolation);
    }
}

/// <summary>One service of the compose file, read from its plain (interpolated) definition.</summary>
public sealed class ComposeService(string name, IReadOnlyDictionary<string, object?> definition)
{
    public string Name { get; } = name;

    public IReadOnlyDictionary<string, object?> Definition { get; } = definition;

    public bool Has(string key) => Definition.ContainsKey(key);

    public string? Image => Definition.GetValueOrDefault("image") as string;

    public string? ContainerName => Definition.GetValueOrDefault("container_name") as string;

    /// <summary>Build context and Dockerfile, both repository-relative; null for an image-only service.</summary>
    public ComposeBuild? Build => Definition.GetValueOrDefault("build") switch
    {
        string context => new ComposeBuild(ComposeFile.RepositoryPathOf(context), CombinePath(ComposeFile.RepositoryPathOf(context), "Dockerfile")),
        IReadOnlyDictionary<string, object?> build => BuildOf(build),
        _ => null,
    };

    public IReadOnlyDictionary<string, string> Environment => Definition.GetValueOrDefault("environment") switch
    {
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(e => e.Key, e => e.Value as string ?? string.Empty, StringComparer.Ordinal),
        IReadOnlyList<object?> list => list.OfType<string>()
            .Select(item => item.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length == 2 ? parts[1] : string.Empty, StringComparer.Ordinal),
        _ => new Dictionary<string, string>(StringComparer.Ordinal),
    };

    public IReadOnlyList<ComposePort> Ports => Yaml.List(Definition, "ports").Select(ComposePort.Parse).ToArray();

    public IReadOnlyList<string> Profiles => Yaml.List(Definition, "profiles").OfType<string>().ToArray();

    /// <summary>The command in exec form; a string command is split on whitespace.</summary>
    public IReadOnlyList<string>? Command => Words(Definition.GetValueOrDefault("command"));

    public IReadOnlyList<string>? Entrypoint => Words(Definition.GetValueOrDefault("entrypoint"));

    /// <summary>Service name to condition (<c>service_started</c> for the short list form).</summary>
    public IReadOnlyDictionary<string, string> DependsOn => Definition.GetValueOrDefault("depends_on") switch
    {
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(
            e => e.Key,
            e => (e.Value as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault("condition") as string ?? "service_started",
            StringComparer.Ordinal),
        IReadOnlyList<object?> list => list.OfType<string>().ToDictionary(s => s, _ => "service_started", StringComparer.Ordinal),
        _ => new Dictionary<string, string>(StringComparer.Ordinal),
    };

    /// <summary>The healthcheck's <c>test</c>, or null when the service defines none here.</summary>
    public IReadOnlyList<string>? HealthcheckTest =>
        Yaml.Mapping(Definition, "healthcheck")?.GetValueOrDefault("test") switch
        {
            string shell => ["CMD-SHELL", shell],
            IReadOnlyList<object?> list => list.Select(item => item as string ?? string.Empty).ToArray(),
            _ => null,
        };

    public IReadOnlyList<ComposeVolume> Volumes => Yaml.List(Definition, "volumes").Select(ComposeVolume.Parse).ToArray();

    private static ComposeBuild BuildOf(IReadOnlyDictionary<string, object?> build)
    {
        var context = ComposeFile.RepositoryPathOf(build.GetValueOrDefault("context") as string ?? ".");
        var dockerfile = build.GetValueOrDefault("dockerfile") as string ?? "Dockerfile";
        return new ComposeBuild(context, CombinePath(context, dockerfile));
    }

    private static string CombinePath(string repositoryDirectory, string relative) =>
        Repository.RelativePathOf(Path.Combine(Repository.PathOf(repositoryDirectory), relative))
        ?? throw new InvalidOperationException($"'{relative}' leaves the repository.");

    private static string[]? Words(object? value) => value switch
    {
        string text => text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        IReadOnlyList<object?> list => list.Select(item => item as string ?? string.Empty).ToArray(),
        _ => null,
    };
}

/// <summary>A build: context directory and Dockerfile, repository-relative ("" is the root).</summary>
public sealed record ComposeBuild(string Context, string Dockerfile);

/// <summary>A published port: <c>[host_ip:]published:target[/protocol]</c>, or the long form.</summary>
public sealed record ComposePort(string? HostIp, string? Published, int Target)
{
    public static ComposePort Parse(object? entry)
    {
        if (entry is IReadOnlyDictionary<string, object?> longForm)
        {
            return new ComposePort(
                longForm.GetValueOrDefault("host_ip") as string,
                longForm.GetValueOrDefault("published") as string,
                int.Parse(longForm.GetValueOrDefault("target") as string ?? "0", CultureInfo.InvariantCulture));
        }

        var text = entry as string ?? throw new FormatException($"Unreadable port entry '{entry}'.");
        var parts = text.Split('/')[0].Split(':');
        return parts.Length switch
        {
            1 => new ComposePort(null, null, int.Parse(parts[0], CultureInfo.InvariantCulture)),
            2 => new ComposePort(null, parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture)),
            3 => new ComposePort(parts[0], parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture)),
            _ => throw new FormatException($"Unreadable port entry '{text}'."),
        };
    }
}

/// <summary>A volume entry; a bind mount's source is a path (relative to the compose file), a named volume's a name.</summary>
public sealed record ComposeVolume(string Source, string Target, bool IsBind)
{
    public static ComposeVolume Parse(object? entry)
    {
        if (entry is IReadOnlyDictionary<string, object?> longForm)
        {
            var type = longForm.GetValueOrDefault("type") as string ?? "volume";
            return new ComposeVolume(
                longForm.GetValueOrDefault("source") as string ?? string.Empty,
                longForm.GetValueOrDefault("target") as string ?? string.Empty,
                type == "bind");
        }

        var parts = (entry as string ?? throw new FormatException($"Unreadable volume entry '{entry}'.")).Split(':');
        var source = parts.Length > 1 ? parts[0] : string.Empty;
        var target = parts.Length > 1 ? parts[1] : parts[0];
        var isBind = source.StartsWith('.') || source.StartsWith('/') || source.StartsWith('~');
        return new ComposeVolume(source, target, isBind);
    }
}

/// <summary>A value an override file tags <c>!reset</c> or <c>!override</c>: it replaces the earlier file's instead of merging with it.</summary>
public sealed record YamlReplacement(object? Value);

/// <summary>YAML to plain values: mappings, lists and strings, scalars passed through <c>scalar</c>.</summary>
public static class Yaml
{
    public static object? ToPlain(YamlNode node, Func<string, string> scalar)
    {
        ArgumentNullException.ThrowIfNull(node);
        var plain = ToPlainUntagged(node, scalar);
        return node.Tag.IsLocal && node.Tag.Value is "!reset" or "!override" ? new YamlReplacement(plain) : plain;
    }

    /// <summary>
    /// Compose's merge of an override onto a value: mappings merged key by key, sequences appended,
    /// scalars replaced, a <see cref="YamlReplacement"/> taking the place of what was there.
    /// </summary>
    public static object? Merge(object? earlier, object? later) => (earlier, later) switch
    {
        (_, YamlReplacement replacement) => Unwrap(replacement.Value),
        (IReadOnlyDictionary<string, object?> first, IReadOnlyDictionary<string, object?> second) =>
            first.Keys.Union(second.Keys).ToDictionary(
                key => key,
                key => second.TryGetValue(key, out var value) ? (first.TryGetValue(key, out var old) ? Merge(old, value) : Unwrap(value)) : first[key],
                StringComparer.Ordinal) as IReadOnlyDictionary<string, object?>,
        (IReadOnlyList<object?> first, IReadOnlyList<object?> second) => first.Concat(second.Select(Unwrap)).ToList() as IReadOnlyList<object?>,
        _ => Unwrap(later),
    };

    private static object? Unwrap(object? value) => value switch
    {
        YamlReplacement replacement => Unwrap(replacement.Value),
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(e => e.Key, e => Unwrap(e.Value), StringComparer.Ordinal) as IReadOnlyDictionary<string, object?>,
        IReadOnlyList<object?> list => list.Select(Unwrap).ToList() as IReadOnlyList<object?>,
        _ => value,
    };

    private static object? ToPlainUntagged(YamlNode node, Func<string, string> scalar) => node switch
    {
        YamlMappingNode mapping => mapping.Children.ToDictionary(
            entry => ((YamlScalarNode)entry.Key).Value ?? string.Empty,
            entry => ToPlain(entry.Value, scalar),
            StringComparer.Ordinal) as IReadOnlyDictionary<string, object?>,
        YamlSequenceNode sequence => sequence.Children.Select(child => ToPlain(child, scalar)).ToList() as IReadOnlyList<object?>,
        YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" } => null,
        YamlScalarNode text => scalar(text.Value ?? string.Empty),
        _ => throw new InvalidOperationException($"Unexpected YAML node {node.NodeType} at {node.Start}."),
    };

    public static IReadOnlyDictionary<string, object?>? Mapping(IReadOnlyDictionary<string, object?> map, string key) =>
        map.GetValueOrDefault(key) as IReadOnlyDictionary<string, object?>;

    public static IReadOnlyList<object?> List(IReadOnlyDictionary<string, object?> map, string key) =>
        map.GetValueOrDefault(key) as IReadOnlyList<object?> ?? [];

    /// <summary>The value at a path of mapping keys, or null where the path ends early.</summary>
    public static object? Path(object? value, params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            value = (value as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault(key);
        }

        return value;
    }
}

/// <summary>A dotenv file: <c>NAME=value</c> lines, comments and blank lines ignored.</summary>
public static class EnvFile
{
    public static IReadOnlyDictionary<string, string> Read(string relativePath) =>
        Repository.ReadText(relativePath)
            .Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(parts => parts[0].Trim(), parts => Unquote(parts.Length == 2 ? parts[1].Trim() : string.Empty), StringComparer.Ordinal);

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;
}
