using YamlDotNet.RepresentationModel;

namespace Registration.Testing.Deployment;

/// <summary>
/// A Kustomize directory rendered as <c>kubectl kustomize</c> renders it (the same command an operator runs
/// before applying), read as plain objects. kubectl is required: when it is missing the render fails with a
/// message that says how to install it, rather than the checks passing on nothing.
/// </summary>
public sealed class KubernetesManifests
{
    private KubernetesManifests(string directory, IReadOnlyList<KubernetesObject> objects)
    {
        Directory = directory;
        Objects = objects;
    }

    /// <summary>The rendered directory, repository-relative.</summary>
    public string Directory { get; }

    public IReadOnlyList<KubernetesObject> Objects { get; }

    public IEnumerable<KubernetesObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public KubernetesObject Get(string kind, string name) =>
        Objects.SingleOrDefault(o => o.Kind == kind && o.Name == name)
        ?? throw new KeyNotFoundException($"{Directory} renders no {kind} '{name}' (it renders {string.Join(", ", Objects.Select(o => $"{o.Kind}/{o.Name}"))}).");

    /// <summary>A generated ConfigMap or Secret by the name a workload refers to it (with Kustomize's hash suffix).</summary>
    public KubernetesObject? Find(string kind, string name) => Objects.SingleOrDefault(o => o.Kind == kind && o.Name == name);

    /// <summary>Every pod template: the Deployments' and the CronJobs' jobs', with the object that holds it.</summary>
    public IEnumerable<(KubernetesObject Owner, PodTemplate Pod)> PodTemplates() =>
        OfKind("Deployment").Select(d => (d, new PodTemplate((IReadOnlyDictionary<string, object?>)d["spec", "template"]!)))
            .Concat(OfKind("CronJob").Select(c => (c, new PodTemplate((IReadOnlyDictionary<string, object?>)c["spec", "jobTemplate", "spec", "template"]!))));

    public static KubernetesManifests Render(string relativeDirectory)
    {
        var result = ExternalTool.Run(
            "kubectl",
            "Install it (Debian: `apt-get install kubernetes-client`, or the binary from https://dl.k8s.io; kubectl 1.27 or later embeds Kustomize 5).",
            "kustomize",
            relativeDirectory);
        return result.ExitCode == 0
            ? new KubernetesManifests(relativeDirectory, Parse(result.Output))
            : throw new InvalidOperationException($"kubectl kustomize {relativeDirectory} failed ({result.ExitCode}): {result.Error}");
    }

    public static IReadOnlyList<KubernetesObject> Parse(string yaml)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(yaml))
        {
            stream.Load(reader);
        }

        return stream.Documents
            .Select(document => Yaml.ToPlain(document.RootNode, scalar => scalar) as IReadOnlyDictionary<string, object?>)
            .OfType<IReadOnlyDictionary<string, object?>>()
            .Select(definition => new KubernetesObject(definition))
            .ToArray();
    }
}

/// <summary>One rendered object: its kind, name, and definition as plain values.</summary>
public sealed class KubernetesObject(IReadOnlyDictionary<string, object?> definition)
{
    public IReadOnlyDictionary<string, object?> Definition { get; } = definition;

    public string Kind => Definition.GetValueOrDefault("kind") as string ?? string.Empty;

    public string Name => Yaml.Path(Definition, "metadata", "name") as string ?? string.Empty;

    public IReadOnlyDictionary<string, string> Labels => StringMap(Yaml.Path(Definition, "metadata", "labels"));

    /// <summary>A ConfigMap's data, or a Secret's data (base64-decoded) and stringData.</summary>
    public IReadOnlyDictionary<string, string> Data
    {
        get
        {
            var data = StringMap(Definition.GetValueOrDefault("data"));
            if (Kind == "Secret")
            {
                data = data.ToDictionary(e => e.Key, e => Encoding.UTF8.GetString(Convert.FromBase64String(e.Value)), StringComparer.Ordinal);
            }

            return data.Concat(StringMap(Definition.GetValueOrDefault("stringData"))).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        }
    }

    public object? this[params string[] path] => Yaml.Path(Definition, path);

    public override string ToString() => $"{Kind}/{Name}";

    internal static IReadOnlyDictionary<string, string> StringMap(object? value) =>
        (value as IReadOnlyDictionary<string, object?>)?.ToDictionary(e => e.Key, e => e.Value as string ?? string.Empty, StringComparer.Ordinal)
        ?? new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>A pod template: labels, security context, volumes, grace period and containers.</summary>
public sealed class PodTemplate(IReadOnlyDictionary<string, object?> template)
{
    public IReadOnlyDictionary<string, string> Labels => KubernetesObject.StringMap(Yaml.Path(template, "metadata", "labels"));

    public IReadOnlyDictionary<string, object?> Spec => (IReadOnlyDictionary<string, object?>)template["spec"]!;

    public IReadOnlyList<PodContainer> Containers => Yaml.List(Spec, "containers").OfType<IReadOnlyDictionary<string, object?>>().Select(c => new PodContainer(c)).ToArray();

    public int? TerminationGracePeriodSeconds =>
        Spec.GetValueOrDefault("terminationGracePeriodSeconds") is string seconds ? int.Parse(seconds, CultureInfo.InvariantCulture) : null;

    public object? this[params string[] path] => Yaml.Path(Spec, path);

    /// <summary>Volume name to its definition.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Volumes =>
        Yaml.List(Spec, "volumes").OfType<IReadOnlyDictionary<string, object?>>().ToDictionary(v => (string)v["name"]!, v => v, StringComparer.Ordinal);
}

/// <summary>One container of a pod template.</summary>
public sealed class PodContainer(IReadOnlyDictionary<string, object?> container)
{
    public IReadOnlyDictionary<string, object?> Definition => container;

    public string Name => (string)container["name"]!;

    public string Image => container.GetValueOrDefault("image") as string ?? string.Empty;

    public IReadOnlyList<string>? Command => (container.GetValueOrDefault("command") as IReadOnlyList<object?>)?.Select(w => (string)w!).ToArray();

    public IReadOnlyList<string> Args => (container.GetValueOrDefault("args") as IReadOnlyList<object?>)?.Select(w => (string)w!).ToArray() ?? [];

    /// <summary>Port name to number.</summary>
    public IReadOnlyDictionary<string, int> Ports =>
        Yaml.List(container, "ports").OfType<IReadOnlyDictionary<string, object?>>()
            .ToDictionary(p => p.GetValueOrDefault("name") as string ?? (string)p["containerPort"]!, p => int.Parse((string)p["containerPort"]!, CultureInfo.InvariantCulture), StringComparer.Ordinal);

    /// <summary>The <c>env</c> entries in order: a literal value, or a reference to a Secret or ConfigMap key.</summary>
    public IReadOnlyList<EnvironmentEntry> Env =>
        Yaml.List(container, "env").OfType<IReadOnlyDictionary<string, object?>>().Select(EnvironmentEntry.From).ToArray();

    /// <summary>Names of the ConfigMaps and Secrets whose keys all become variables (<c>envFrom</c>).</summary>
    public IReadOnlyList<(string Kind, string Name)> EnvFrom =>
        Yaml.List(container, "envFrom").OfType<IReadOnlyDictionary<string, object?>>()
            .Select(source => source.TryGetValue("configMapRef", out var map)
                ? ("ConfigMap", (string)Yaml.Path(map, "name")!)
                : ("Secret", (string)Yaml.Path(source["secretRef"], "name")!))
            .ToArray();

    public object? this[params string[] path] => Yaml.Path(container, path);
}

/// <summary>An <c>env</c> entry: <c>value</c>, or <c>valueFrom.secretKeyRef</c> / <c>configMapKeyRef</c>.</summary>
public sealed record EnvironmentEntry(string Name, string? Value, string? SecretName, string? ConfigMapName, string? Key)
{
    internal static EnvironmentEntry From(IReadOnlyDictionary<string, object?> entry)
    {
        var secret = Yaml.Path(entry, "valueFrom", "secretKeyRef");
        var configMap = Yaml.Path(entry, "valueFrom", "configMapKeyRef");
        var reference = secret ?? configMap;
        return new EnvironmentEntry(
            (string)entry["name"]!,
            entry.GetValueOrDefault("value") as string,
            Yaml.Path(secret, "name") as string,
            Yaml.Path(configMap, "name") as string,
            Yaml.Path(reference, "key") as string);
    }
}
