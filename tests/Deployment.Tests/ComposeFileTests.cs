using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Deployment.Tests;

/// <summary>deploy/docker-compose.yml, checked without Docker: paths, images, ports, wiring, credentials.</summary>
public sealed class ComposeFileTests
{
    private const string PostgresInitScript = "deploy/postgres/init-databases.sh";

    private static readonly ComposeFile Compose = ComposeFile.LoadWithDefaults();

    public static TheoryData<string> VariableSources => new() { "defaults", ComposeFile.EnvExampleRelativePath };

    [Fact]
    public void Services_AreTheOnesTheDesignNames()
    {
        Compose.Services.Keys.Should().BeEquivalentTo(ServiceNames.Api, ServiceNames.Worker, ServiceNames.Tests, ServiceNames.Postgres, ServiceNames.RabbitMq, ServiceNames.Mailpit);
    }

    [Fact]
    public void BuildContextsAndDockerfiles_Exist()
    {
        var builds = Compose.Services.Values.Where(s => s.Build is not null).ToArray();

        builds.Select(s => s.Name).Should().BeEquivalentTo(ServiceNames.Api, ServiceNames.Worker, ServiceNames.Tests);
        foreach (var service in builds)
        {
            service.Build!.Context.Should().Be(".", $"{service.Name} builds from the repository root (`context: ..`)");
            Repository.Exists(service.Build.Dockerfile).Should().BeTrue($"{service.Name}'s Dockerfile {service.Build.Dockerfile} must exist");
        }
    }

    [Fact]
    public void BindMounts_PointAtFilesInTheRepository()
    {
        foreach (var service in Compose.Services.Values)
        {
            foreach (var volume in service.Volumes)
            {
                if (volume.IsBind)
                {
                    Repository.Exists(ComposeFile.RepositoryPathOf(volume.Source))
                        .Should().BeTrue($"{service.Name} mounts {volume.Source} (relative to deploy/)");
                }
                else
                {
                    Compose.Volumes.Should().Contain(volume.Source, $"{service.Name} uses the named volume {volume.Source}");
                }
            }
        }
    }

    [Fact]
    public void Images_ArePinnedToATag()
    {
        foreach (var service in Compose.Services.Values.Where(s => s.Image is not null))
        {
            var tag = service.Image!.Split('/')[^1].Split(':', 2).ElementAtOrDefault(1);
            tag.Should().NotBeNullOrEmpty($"{service.Name}'s image {service.Image} must name a tag");
            tag.Should().NotBe("latest", $"{service.Name}'s image must not float on latest");
        }
    }

    [Fact]
    public void EveryVariable_HasADefault_SoACleanCloneNeedsNoEnvFile()
    {
        Compose.Interpolation!.UnsetWithoutDefault.Should().BeEmpty("`docker compose up` must work from a clean clone, without deploy/.env");
    }

    [Fact]
    public void EnvExample_ListsExactlyTheVariablesTheComposeFilesRead()
    {
        var example = EnvFile.Read(ComposeFile.EnvExampleRelativePath);
        // The scaled override is read with the compose file: their variables together.
        var referenced = ComposeFile.LoadScaledWithDefaults().Interpolation!.Referenced;

        example.Keys.Should().BeEquivalentTo(referenced, "deploy/.env.example documents every setting, and only those");
        referenced.Should().Contain(Compose.Interpolation!.Referenced);
    }

    [Fact]
    public void EnvFile_IsGitIgnored_AndKeptOutOfImages()
    {
        var gitignore = Repository.ReadText(".gitignore").Split('\n').Select(line => line.Trim());

        gitignore.Should().Contain(line => line == ".env" || line == "**/.env" || line == "deploy/.env", "deploy/.env holds secrets");
        DockerIgnore.Load().IsIgnored("deploy/.env").Should().BeTrue();
    }

    [Fact]
    public void Api_PublishesTheContainerPortAspNetCoreListensOn_OnHostPort8000()
    {
        var api = Compose.Service(ServiceNames.Api);
        var listening = UrlPorts(api.Environment["ASPNETCORE_URLS"]);

        api.Ports.Should().NotBeEmpty();
        api.Ports.Select(p => p.Target).Should().OnlyContain(port => listening.Contains(port), "a published port nobody listens on answers nothing");
        api.Ports.Should().Contain(p => p.Published == "8000", "the README's curl http://localhost:8000 must work");
    }

    [Fact]
    public void Api_Healthcheck_ProbesReadinessOnTheListeningPort()
    {
        var api = Compose.Service(ServiceNames.Api);
        var port = UrlPorts(api.Environment["ASPNETCORE_URLS"]).Single();
        var test = string.Join(' ', api.HealthcheckTest ?? []);

        test.Should().Contain($"/{port}", "the healthcheck must knock on the port Kestrel listens on").And.Contain("/health/ready");
        test.Should().NotContainAny(["curl", "wget"], "the aspnet image has neither");
    }

    [Fact]
    public void Worker_Healthcheck_ProbesReadinessOnItsTelemetryPort()
    {
        var worker = Compose.Service(ServiceNames.Worker);
        var port = worker.Environment.TryGetValue("Telemetry__Port", out var set)
            ? set
            : new Notification.Worker.Infrastructure.TelemetryOptions().Port.ToString(CultureInfo.InvariantCulture);
        var test = string.Join(' ', worker.HealthcheckTest ?? []);

        port.Should().NotBe("0", "a worker with its telemetry port off has nothing to probe");
        test.Should().Contain($"/dev/tcp/127.0.0.1/{port}", "the healthcheck must knock on the port the worker serves health on").And.Contain("/health/ready");
        test.Should().NotContainAny(["curl", "wget"], "the aspnet image has neither");
    }

    [Fact]
    public void PublishedPorts_ListenOnTheConfiguredAddressOnly()
    {
        foreach (var port in Compose.Services.Values.SelectMany(s => s.Ports))
        {
            port.HostIp.Should().Be("127.0.0.1", "development credentials must not be reachable from the network by default");
        }
    }

    [Fact]
    public void Worker_IsScalable_AndRunsTheImageEntryPoint()
    {
        var worker = Compose.Service(ServiceNames.Worker);

        worker.Ports.Should().BeEmpty("`--scale notification-worker=3` cannot bind one host port three times");
        worker.ContainerName.Should().BeNull("container names are unique: a fixed one prevents scaling");
        worker.Entrypoint.Should().BeNull("`run --rm notification-worker dead-letters replay` appends to the image's ENTRYPOINT");
        worker.Command.Should().BeNull("a command would be replaced by `run`'s arguments anyway, and hides the default");
    }

    [Fact]
    public void Tests_RunTheReadmeTestCommand_OnDemand_AgainstTheComposeServices()
    {
        var tests = Compose.Service(ServiceNames.Tests);
        var environment = tests.Environment;

        tests.Profiles.Should().Contain("test", "`up` must not start the test run");
        tests.Command.Should().StartWith("./scripts/test.sh");
        // Only the checks that need kubectl or promtool (not in the SDK image) are left out, by their trait.
        tests.Command!.Skip(1).Should().Equal("--filter", $"{ExternalTool.Requires}!=kubectl&{ExternalTool.Requires}!=promtool");
        Repository.Exists("scripts/test.sh").Should().BeTrue();

        var postgres = Connection(environment["TEST_POSTGRES"]);
        postgres["Host"].Should().Be(ServiceNames.Postgres);
        var rabbitMq = new Uri(environment["TEST_RABBITMQ"]);
        rabbitMq.Scheme.Should().Be("amqp");
        rabbitMq.Host.Should().Be(ServiceNames.RabbitMq);
        rabbitMq.UserInfo.Should().Contain(":", "the test fixtures log in with the URI's credentials");
        new Uri(environment["TEST_RABBITMQ_MANAGEMENT"]).Should().Be(new Uri($"http://{ServiceNames.RabbitMq}:15672"));
        tests.DependsOn.Should().Contain(ServiceNames.Postgres, "service_healthy").And.Contain(ServiceNames.RabbitMq, "service_healthy");
    }

    [Fact]
    public void Dependencies_Exist_AndHealthyOnesHaveAHealthcheck()
    {
        foreach (var service in Compose.Services.Values)
        {
            foreach (var (dependency, condition) in service.DependsOn)
            {
                Compose.Services.Should().ContainKey(dependency, $"{service.Name} depends on it");
                if (condition == "service_healthy")
                {
                    Compose.Service(dependency).HealthcheckTest.Should().NotBeNull($"{service.Name} waits for {dependency} to be healthy");
                }
            }
        }

        Compose.Service(ServiceNames.Api).DependsOn.Should().Contain(ServiceNames.Postgres, "service_healthy", "the API migrates its database at start-up");
    }

    [Fact]
    public void Clients_ReachTheComposeServices()
    {
        foreach (var name in new[] { ServiceNames.Api, ServiceNames.Worker })
        {
            var environment = Compose.Service(name).Environment;
            Connection(environment["ConnectionStrings__Postgres"])["Host"].Should().Be(ServiceNames.Postgres);
            environment["RabbitMq__Host"].Should().Be(ServiceNames.RabbitMq);
            environment["RabbitMq__Port"].Should().Be("5672");
        }

        var worker = Compose.Service(ServiceNames.Worker).Environment;
        worker["Email__Provider"].Should().Be("Mailpit");
        new Uri(worker["Email__BaseUrl"]).Should().Be(new Uri($"http://{ServiceNames.Mailpit}:8025"), "Mailpit serves its send API on its HTTP port");
    }

    [Theory]
    [MemberData(nameof(VariableSources))]
    public void Credentials_AgreeBetweenServersAndClients(string variables)
    {
        var compose = variables == "defaults" ? Compose : ComposeFile.LoadWithEnvExample();
        var rabbitMq = compose.Service(ServiceNames.RabbitMq).Environment;
        var user = rabbitMq["RABBITMQ_DEFAULT_USER"];
        var password = rabbitMq["RABBITMQ_DEFAULT_PASS"];
        var databasePasswords = DatabasePasswords(compose.Service(ServiceNames.Postgres).Environment);

        foreach (var name in new[] { ServiceNames.Api, ServiceNames.Worker })
        {
            var environment = compose.Service(name).Environment;
            environment["RabbitMq__Username"].Should().Be(user, $"{name} logs in as the user RabbitMQ creates");
            environment["RabbitMq__Password"].Should().Be(password);
        }

        new Uri(compose.Service(ServiceNames.Tests).Environment["TEST_RABBITMQ"]).UserInfo.Should().Be($"{user}:{password}");

        var connectionStrings = new[]
        {
            (ServiceNames.Api, "ConnectionStrings__Postgres"), (ServiceNames.Worker, "ConnectionStrings__Postgres"), (ServiceNames.Tests, "TEST_POSTGRES"),
        };
        foreach (var (name, variable) in connectionStrings)
        {
            var connection = Connection(compose.Service(name).Environment[variable]);
            var role = (string)connection["Username"];
            databasePasswords.Should().ContainKey(role, $"{PostgresInitScript} must create the role {name} logs in as");
            connection["Password"].Should().Be(databasePasswords[role], $"{name} must use the password {role} was created with");
        }
    }

    [Fact]
    public void PostgresInitScript_GetsEveryVariableItUses()
    {
        var postgres = Compose.Service(ServiceNames.Postgres);
        var mounted = postgres.Volumes.Where(v => v.IsBind).Select(v => ComposeFile.RepositoryPathOf(v.Source));
        var script = Repository.ReadText(PostgresInitScript);
        // Set by the postgres image itself.
        string[] imageVariables = ["POSTGRES_USER", "POSTGRES_DB"];

        mounted.Should().Contain(PostgresInitScript);
        postgres.Volumes.Should().Contain(v => v.IsBind && v.Target.StartsWith("/docker-entrypoint-initdb.d/", StringComparison.Ordinal));
        foreach (var variable in Regex.Matches(script, @"\$\{?([A-Z][A-Z0-9_]*)").Select(m => m.Groups[1].Value).Distinct())
        {
            if (!imageVariables.Contains(variable))
            {
                postgres.Environment.Should().ContainKey(variable, $"{PostgresInitScript} reads ${variable}");
            }
        }
    }

    /// <summary>Role name to password, as the init script creates them from the postgres service's environment.</summary>
    private static Dictionary<string, string> DatabasePasswords(IReadOnlyDictionary<string, string> postgresEnvironment)
    {
        var script = Repository.ReadText(PostgresInitScript);
        var psqlVariables = Regex.Matches(script, @"-v\s+(\w+)=""\$(\w+)""")
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
        return Regex.Matches(script, @"CREATE ROLE (\w+) .*PASSWORD :'(\w+)'")
            .ToDictionary(
                m => m.Groups[1].Value,
                m => postgresEnvironment[psqlVariables[m.Groups[2].Value]],
                StringComparer.Ordinal);
    }

    private static DbConnectionStringBuilder Connection(string connectionString) => new() { ConnectionString = connectionString };

    /// <summary>The ports of an ASPNETCORE_URLS value (<c>http://+:8080;http://localhost:5000</c>).</summary>
    private static HashSet<int> UrlPorts(string urls) => urls
        .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(url => new Uri(url.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)).Port)
        .ToHashSet();
}
