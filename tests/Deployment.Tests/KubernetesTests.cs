using System.Text.RegularExpressions;
using Notification.Worker.DeadLetters;
using Registration.Hosting;

namespace Deployment.Tests;

/// <summary>
/// deploy/kubernetes, every overlay rendered with <c>kubectl kustomize</c> and checked against the code: the
/// variables the services bind, the ports and paths they serve, the Dockerfiles' images and entry points, the
/// stop timeouts, and the pods' security. No cluster needed (the build machines have none).
/// </summary>
[Trait(ExternalTool.Requires, "kubectl")]
public sealed class KubernetesTests
{
    public const string Dev = "deploy/kubernetes/overlays/dev";
    public const string Production = "deploy/kubernetes/overlays/production";
    public const string Operators = "deploy/kubernetes/operators";

    /// <summary>The non-root user of the .NET images (<c>USER $APP_UID</c> in both Dockerfiles).</summary>
    private const string AppUid = "1654";

    private static readonly Dictionary<string, Lazy<KubernetesManifests>> Rendered = new(StringComparer.Ordinal)
    {
        [Dev] = new(() => KubernetesManifests.Render(Dev)),
        [Production] = new(() => KubernetesManifests.Render(Production)),
    };

    public static TheoryData<string> Overlays => new() { Dev, Production };

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Overlay_RendersEveryPart(string overlay)
    {
        var manifests = Rendered[overlay].Value;
        var kinds = manifests.Objects.Select(o => $"{o.Kind}/{o.Name}").ToArray();

        kinds.Should().Contain([
            $"Deployment/{ServiceNames.Api}", $"Service/{ServiceNames.Api}", $"HorizontalPodAutoscaler/{ServiceNames.Api}", $"PodDisruptionBudget/{ServiceNames.Api}",
            $"Deployment/{ServiceNames.Worker}", $"PodDisruptionBudget/{ServiceNames.Worker}",
            "NetworkPolicy/default-deny", "CronJob/dead-letters-list", "CronJob/dead-letters-replay",
        ]);
        // The workers scale on the queue (KEDA) in production, on CPU (a plain HPA) where KEDA is not installed.
        kinds.Should().Contain(overlay == Production ? $"ScaledObject/{ServiceNames.Worker}" : $"HorizontalPodAutoscaler/{ServiceNames.Worker}");
        kinds.Should().NotContain(overlay == Production ? $"HorizontalPodAutoscaler/{ServiceNames.Worker}" : $"ScaledObject/{ServiceNames.Worker}",
            "KEDA makes its own HPA: two autoscalers on one Deployment would fight");
        manifests.Objects.Where(o => o.Kind != "Namespace").Select(o => o["metadata", "namespace"]).Distinct().Should().ContainSingle();
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryVariable_IsAKeyTheServiceBinds_OrAPartOfOne(string overlay)
    {
        foreach (var (owner, container, environment, configuration) in Containers(overlay))
        {
            var unread = environment.Keys
                .Where(name => configuration.WhyItReads(ServiceConfiguration.KeyOf(name)) is null && !IsExpandedIntoAnother(name, environment))
                .ToArray();

            unread.Should().BeEmpty($"{owner}/{container.Name} would ignore them (a helper variable must be expanded into a key the service reads)");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Settings_BindAndValidate_AsAtStartUp(string overlay)
    {
        foreach (var (owner, container, environment, configuration) in Containers(overlay))
        {
            var problems = configuration.BindAndValidate(Expanded(environment));
            // The dead-letters command binds the broker's settings only (DeadLetterCommand), not the worker's others.
            var relevant = owner.Kind == "CronJob" ? problems.Where(p => p.StartsWith(RabbitMqOptions.SectionName + ":", StringComparison.Ordinal)) : problems;

            relevant.Should().BeEmpty($"{owner}/{container.Name} would refuse to start ({overlay})");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Containers_RunTheImagesTheDockerfilesBuild_WithTheirEntryPoints(string overlay)
    {
        var images = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ServiceNames.Api] = DockerfileTests.ApiDockerfile,
            [ServiceNames.Worker] = DockerfileTests.WorkerDockerfile,
        };

        foreach (var (owner, pod) in Rendered[overlay].Value.PodTemplates())
        {
            foreach (var container in pod.Containers)
            {
                var (repository, tag) = ImageReference.Split(container.Image);
                var name = repository.Split('/')[^1];
                images.Should().ContainKey(name, $"{owner}/{container.Name} runs an image this repository builds");
                tag.Should().NotBeNullOrEmpty($"{owner}/{container.Name} pins a tag").And.NotBe("latest");
                container.Command.Should().BeNull($"{owner}/{container.Name} runs the image's ENTRYPOINT ({images[name]})");
                var entrypoint = Dockerfile.Load(images[name]).FinalStage.Instructions.Last(i => i.Keyword == "ENTRYPOINT").Words;
                entrypoint.Should().Equal("dotnet", $"{name.Replace(ServiceNames.Api, "Registration.Api", StringComparison.Ordinal).Replace(ServiceNames.Worker, "Notification.Worker", StringComparison.Ordinal)}.dll");
            }
        }

        var jobs = Rendered[overlay].Value.OfKind("CronJob").ToArray();
        jobs.Should().OnlyContain(job => Pod(job).Containers.Single().Args.Count > 0 && Pod(job).Containers.Single().Args[0] == "dead-letters", "the Job templates run the worker's operator command");
        jobs.Should().OnlyContain(job => ImageReference.Split(Pod(job).Containers.Single().Image).Repository.EndsWith(ServiceNames.Worker, StringComparison.Ordinal));
        jobs.Select(job => string.Join(' ', Pod(job).Containers.Single().Args)).Should().BeEquivalentTo("dead-letters list", "dead-letters replay");
        jobs.Should().OnlyContain(job => (string?)job["spec", "suspend"] == "true", "templates: they never run by themselves");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Ports_AreTheOnesTheServicesListenOn(string overlay)
    {
        var manifests = Rendered[overlay].Value;
        var (api, apiEnvironment) = Container(manifests, ServiceNames.Api);
        var (worker, workerEnvironment) = Container(manifests, ServiceNames.Worker);
        var urls = new Uri(apiEnvironment["ASPNETCORE_URLS"].Replace("+", "localhost", StringComparison.Ordinal));
        var exposed = Dockerfile.Load(DockerfileTests.ApiDockerfile).FinalStage.Instructions.Single(i => i.Keyword == "EXPOSE").Arguments;
        var telemetryPort = workerEnvironment.TryGetValue("Telemetry__Port", out var port)
            ? int.Parse(port, System.Globalization.CultureInfo.InvariantCulture)
            : DefaultOf<int>(ServiceConfiguration.Worker, "Telemetry", "Port");

        api.Ports.Should().Equal(new Dictionary<string, int> { ["http"] = urls.Port }, "Kestrel listens where ASPNETCORE_URLS says");
        exposed.Should().Be(urls.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "the image documents the same port");
        worker.Ports.Should().Equal(new Dictionary<string, int> { ["telemetry"] = telemetryPort }, "the worker serves health and metrics on Telemetry:Port");

        foreach (var service in manifests.OfKind("Service"))
        {
            var selected = manifests.OfKind("Deployment").Single(d => Matches(service["spec", "selector"], Pod(d).Labels));
            var ports = Pod(selected).Containers.Single().Ports;
            foreach (var servicePort in Yaml.List((IReadOnlyDictionary<string, object?>)service["spec"]!, "ports").OfType<IReadOnlyDictionary<string, object?>>())
            {
                ports.Should().ContainKey((string)servicePort["targetPort"]!, $"Service {service.Name} forwards to a named port of {selected.Name}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Probes_AskThePathsTheServicesServe_OnTheirPorts(string overlay)
    {
        var manifests = Rendered[overlay].Value;
        var (api, apiEnvironment) = Container(manifests, ServiceNames.Api);
        var (worker, _) = Container(manifests, ServiceNames.Worker);
        var apiRoutes = ServiceBuild.Api(Expanded(apiEnvironment)).Routes;

        foreach (var (container, served) in new[] { (api, (Func<string, bool>)apiRoutes.Contains), (worker, ServiceConfiguration.Worker.CodeNames) })
        {
            foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
            {
                var path = container[probe, "httpGet", "path"] as string;
                var port = container[probe, "httpGet", "port"] as string;
                path.Should().NotBeNull($"{container.Name} has a {probe} over HTTP");
                served(path!).Should().BeTrue($"{container.Name}'s {probe} asks {path}, which its code must serve");
                container.Ports.Should().ContainKey(port!, $"{container.Name}'s {probe} knocks on a port it listens on");
            }
        }

        worker["readinessProbe", "httpGet", "path"].Should().Be("/health/ready", "a worker is ready when the broker and database answer");
        api["livenessProbe", "httpGet", "path"].Should().Be("/health/live");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void GracePeriods_ExceedWhatTheServicesTakeToStop(string overlay)
    {
        var manifests = Rendered[overlay].Value;
        foreach (var name in new[] { ServiceNames.Api, ServiceNames.Worker })
        {
            var deployment = manifests.Get("Deployment", name);
            var (container, environment) = Container(manifests, name);
            var stop = name == ServiceNames.Api ? ServiceBuild.Api(Expanded(environment)).Stop : ServiceBuild.Worker(Expanded(environment));
            var preStop = container["lifecycle", "preStop", "exec", "command"] is IReadOnlyList<object?> { Count: 2 } command && command[0] as string == "sleep"
                ? TimeSpan.FromSeconds(int.Parse((string)command[1]!, System.Globalization.CultureInfo.InvariantCulture))
                : TimeSpan.Zero;
            var grace = TimeSpan.FromSeconds(Pod(deployment).TerminationGracePeriodSeconds ?? 30);

            grace.Should().BeGreaterThan(preStop + stop.Longest + TimeSpan.FromSeconds(5),
                $"{name} is killed after the grace period: its preStop ({preStop.TotalSeconds} s) and its stop ({stop}) must fit, with a margin");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Pods_RunAsNonRoot_WithAReadOnlyRoot_AndOnlyTmpWritable(string overlay)
    {
        foreach (var (owner, pod) in Rendered[overlay].Value.PodTemplates())
        {
            pod["securityContext", "runAsNonRoot"].Should().Be("true", $"{owner}");
            pod["securityContext", "runAsUser"].Should().Be(AppUid, $"{owner} runs as the images' app user");
            pod["securityContext", "seccompProfile", "type"].Should().Be("RuntimeDefault");
            pod["automountServiceAccountToken"].Should().Be("false", $"{owner} calls no Kubernetes API");
            foreach (var container in pod.Containers)
            {
                container["securityContext", "readOnlyRootFilesystem"].Should().Be("true", $"{owner}/{container.Name}");
                container["securityContext", "allowPrivilegeEscalation"].Should().Be("false");
                (container["securityContext", "capabilities", "drop"] as IReadOnlyList<object?>).Should().Equal("ALL");
                var mounts = Yaml.List(container.Definition, "volumeMounts").OfType<IReadOnlyDictionary<string, object?>>().ToArray();
                mounts.Should().ContainSingle($"{owner}/{container.Name} writes to /tmp only").Which["mountPath"].Should().Be("/tmp");
                pod.Volumes[(string)mounts[0]["name"]!].Should().ContainKey("emptyDir");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Resources_AreRequestedAndLimited_AndTheApiGetsWholeCores(string overlay)
    {
        foreach (var (owner, pod) in Rendered[overlay].Value.PodTemplates())
        {
            foreach (var container in pod.Containers)
            {
                foreach (var resource in new[] { "cpu", "memory" })
                {
                    container["resources", "requests", resource].Should().NotBeNull($"{owner}/{container.Name} requests {resource}");
                    container["resources", "limits", resource].Should().NotBeNull($"{owner}/{container.Name} is limited in {resource}");
                }
            }
        }

        // .NET sizes the bcrypt bulkhead by Environment.ProcessorCount, which follows the CPU limit rounded up:
        // whole cores, or the bulkhead runs more bcrypt threads than the quota lets run.
        var (api, _) = Container(Rendered[overlay].Value, ServiceNames.Api);
        Regex.IsMatch((string)api["resources", "limits", "cpu"]!, @"^\d+$").Should().BeTrue("the API's CPU limit is whole cores");
        if (overlay == Production)
        {
            api["resources", "requests", "cpu"].Should().Be(api["resources", "limits", "cpu"], "the HPA scales on the request, which is what a pod can use");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Autoscalers_Budgets_AndPolicies_NameTheWorkloads(string overlay)
    {
        var manifests = Rendered[overlay].Value;
        foreach (var autoscaler in manifests.OfKind("HorizontalPodAutoscaler").Concat(manifests.OfKind("ScaledObject")))
        {
            manifests.Find("Deployment", (string)autoscaler["spec", "scaleTargetRef", "name"]!).Should().NotBeNull($"{autoscaler} scales a Deployment that exists");
        }

        foreach (var budget in manifests.OfKind("PodDisruptionBudget"))
        {
            manifests.OfKind("Deployment").Should().ContainSingle(d => Matches(budget["spec", "selector", "matchLabels"], Pod(d).Labels), $"{budget} selects one Deployment's pods");
        }

        var policies = manifests.OfKind("NetworkPolicy").ToArray();
        policies.Should().Contain(p => p.Name == "default-deny" && (p["spec", "podSelector"] as IReadOnlyDictionary<string, object?>)!.Count == 0);
        foreach (var name in new[] { ServiceNames.Api, ServiceNames.Worker })
        {
            var (container, _) = Container(manifests, name);
            var policy = policies.Single(p => Matches(p["spec", "podSelector", "matchLabels"], Pod(manifests.Get("Deployment", name)).Labels));
            var ingressPorts = Yaml.List((IReadOnlyDictionary<string, object?>)policy["spec"]!, "ingress").OfType<IReadOnlyDictionary<string, object?>>()
                .SelectMany(rule => Yaml.List(rule, "ports").OfType<IReadOnlyDictionary<string, object?>>())
                .Select(port => int.Parse((string)port["port"]!, System.Globalization.CultureInfo.InvariantCulture));
            ingressPorts.Distinct().Should().BeEquivalentTo(container.Ports.Values, $"{policy} lets in exactly the ports {name} serves");
        }
    }

    [Fact]
    public void ScaledObject_WatchesTheWorkersQueue_WithTheWorkersOwnCredentials()
    {
        var manifests = Rendered[Production].Value;
        var trigger = Yaml.List((IReadOnlyDictionary<string, object?>)manifests.Get("ScaledObject", ServiceNames.Worker)["spec"]!, "triggers")
            .OfType<IReadOnlyDictionary<string, object?>>().Single();
        var (_, environment) = Container(manifests, ServiceNames.Worker);
        var metadata = (IReadOnlyDictionary<string, object?>)trigger["metadata"]!;

        trigger["type"].Should().Be("rabbitmq");
        metadata["queueName"].Should().Be(DeadLetterQueues.SourceQueueName(DeadLetterQueues.KnownErrorQueues[0]), "the queue MassTransit names after the worker's consumer");
        metadata["mode"].Should().Be("QueueLength");
        environment.Should().ContainKey((string)metadata["usernameFromEnv"]!).And.ContainKey((string)metadata["passwordFromEnv"]!);
        new Uri((string)metadata["host"]!).UserInfo.Should().BeEmpty("credentials come from the worker's Secret, not the manifest");
    }

    [Fact]
    public void Dev_GeneratesEverySecretItsPodsReference_Production_None()
    {
        foreach (var overlay in new[] { Dev, Production })
        {
            var manifests = Rendered[overlay].Value;
            var referenced = manifests.PodTemplates()
                .SelectMany(t => t.Pod.Containers)
                .SelectMany(c => c.Env.Where(e => e.SecretName is not null).Select(e => (e.SecretName!, e.Key!)))
                .Distinct()
                .ToArray();

            referenced.Should().NotBeEmpty();
            if (overlay == Dev)
            {
                foreach (var (secret, key) in referenced)
                {
                    manifests.Find("Secret", secret).Should().NotBeNull($"the dev overlay generates {secret}").And.Subject.As<KubernetesObject>().Data.Should().ContainKey(key);
                }
            }
            else
            {
                manifests.OfKind("Secret").Should().BeEmpty("production Secrets come from outside, never from the repository");
                var readme = Repository.ReadText("deploy/kubernetes/README.md");
                foreach (var (secret, key) in referenced)
                {
                    readme.Should().Contain($"`{secret}`", "the README lists every Secret production needs").And.Contain($"`{key}`");
                }
            }
        }
    }

    [Fact]
    public void OperatorExamples_Render()
    {
        var kinds = KubernetesManifests.Render(Operators).Objects.Select(o => o.Kind);

        kinds.Should().Contain(["Cluster", "RabbitmqCluster", "User", "Permission"]);
    }

    [Fact]
    public void ManifestReader_ReadsEnvironmentReferencesAndDecodesSecrets()
    {
        var objects = KubernetesManifests.Parse("""
            apiVersion: v1
            kind: Secret
            metadata: { name: s }
            data: { password: c2VjcmV0 }
            ---
            kind: Deployment
            metadata: { name: d }
            spec:
              template:
                metadata: { labels: { app: d } }
                spec:
                  containers:
                    - name: c
                      image: repo/img:1
                      env:
                        - { name: A, value: "1" }
                        - { name: B, valueFrom: { secretKeyRef: { name: s, key: password } } }
            """);

        objects[0].Data.Should().Equal(new Dictionary<string, string> { ["password"] = "secret" });
        var container = new PodTemplate((IReadOnlyDictionary<string, object?>)objects[1]["spec", "template"]!).Containers.Single();
        container.Env.Should().Equal(new EnvironmentEntry("A", "1", null, null, null), new EnvironmentEntry("B", null, "s", null, "password"));
    }

    /// <summary>
    /// Every container of the overlay with its environment as the pod would see it: ConfigMap keys (envFrom),
    /// then env entries; a Secret's value where the overlay generates it, a stand-in where it comes from outside.
    /// </summary>
    private static IEnumerable<(KubernetesObject Owner, PodContainer Container, Dictionary<string, string> Environment, ServiceConfiguration Configuration)> Containers(string overlay)
    {
        var manifests = Rendered[overlay].Value;
        foreach (var (owner, pod) in manifests.PodTemplates())
        {
            foreach (var container in pod.Containers)
            {
                var configuration = ImageReference.Split(container.Image).Repository.EndsWith(ServiceNames.Api, StringComparison.Ordinal)
                    ? ServiceConfiguration.Api
                    : ServiceConfiguration.Worker;
                yield return (owner, container, EnvironmentOf(manifests, container), configuration);
            }
        }
    }

    private static (PodContainer Container, Dictionary<string, string> Environment) Container(KubernetesManifests manifests, string deployment)
    {
        var container = Pod(manifests.Get("Deployment", deployment)).Containers.Single();
        return (container, EnvironmentOf(manifests, container));
    }

    private static Dictionary<string, string> EnvironmentOf(KubernetesManifests manifests, PodContainer container)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (kind, name) in container.EnvFrom)
        {
            var source = manifests.Find(kind, name);
            source.Should().NotBeNull($"{container.Name} takes its variables from {kind} {name}, which must be rendered");
            foreach (var (key, value) in source!.Data)
            {
                environment[key] = value;
            }
        }

        foreach (var entry in container.Env)
        {
            environment[entry.Name] = entry.Value
                ?? (entry.SecretName is { } secret ? manifests.Find("Secret", secret)?.Data.GetValueOrDefault(entry.Key!) : null)
                ?? (entry.ConfigMapName is { } map ? manifests.Find("ConfigMap", map)?.Data.GetValueOrDefault(entry.Key!) : null)
                ?? StandIn(entry.Key!);
        }

        return environment;
    }

    /// <summary>A value for a key of a Secret from outside the repository, as valid as a real one would be.</summary>
    private static string StandIn(string key) => key switch
    {
        "port" => "5432",
        "host" => "db.example.internal",
        _ => $"from-secret-{key}",
    };

    /// <summary>Kubernetes' <c>$(NAME)</c> expansion of earlier variables (<c>$$</c> escapes it).</summary>
    private static Dictionary<string, string> Expanded(Dictionary<string, string> environment) =>
        environment.ToDictionary(
            e => e.Key,
            e => Regex.Replace(e.Value, @"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", m =>
                m.Value == "$$" ? "$" : environment.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value),
            StringComparer.Ordinal);

    private static bool IsExpandedIntoAnother(string name, Dictionary<string, string> environment) =>
        environment.Any(e => e.Key != name && e.Value.Contains($"$({name})", StringComparison.Ordinal));

    private static PodTemplate Pod(KubernetesObject owner) =>
        new((IReadOnlyDictionary<string, object?>)(owner.Kind == "CronJob" ? owner["spec", "jobTemplate", "spec", "template"] : owner["spec", "template"])!);

    private static bool Matches(object? selector, IReadOnlyDictionary<string, string> labels) =>
        selector is IReadOnlyDictionary<string, object?> wanted && wanted.Count > 0
        && wanted.All(pair => labels.TryGetValue(pair.Key, out var value) && value == pair.Value as string);

    private static T DefaultOf<T>(ServiceConfiguration configuration, string section, string property) =>
        (T)configuration.Sections.Single(s => s.Name == section).Type.GetProperty(property)!.GetValue(Activator.CreateInstance(configuration.Sections.Single(s => s.Name == section).Type))!;
}
