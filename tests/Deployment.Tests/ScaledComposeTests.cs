using System.Net;

namespace Deployment.Tests;

/// <summary>
/// deploy/docker-compose.scaled.yml merged onto deploy/docker-compose.yml as Compose merges them, and
/// deploy/nginx/registration.conf: API replicas behind nginx, the proxy trusted by address, several workers.
/// </summary>
public sealed class ScaledComposeTests
{
    public const string Proxy = "proxy";
    public const string NginxConfigPath = "deploy/nginx/registration.conf";

    private static readonly ComposeFile Scaled = ComposeFile.LoadScaledWithDefaults();
    private static readonly Lazy<NginxConfig> Nginx = new(() => NginxConfig.Load(NginxConfigPath));

    [Fact]
    public void Services_AreTheComposeFilesPlusTheProxy()
    {
        Scaled.Services.Keys.Should().BeEquivalentTo(ComposeFile.LoadWithDefaults().Services.Keys.Append(Proxy));
        Scaled.Service(Proxy).Image.Should().Be("nginx:1.27-alpine");
    }

    [Fact]
    public void Replicas_AreTwoApisAndThreeWorkers_ByDefault()
    {
        Replicas(ServiceNames.Api).Should().Be(2);
        Replicas(ServiceNames.Worker).Should().Be(3);
    }

    [Fact]
    public void Replicas_PublishNoPort_TheProxyPublishesTheApiPort()
    {
        var proxy = Scaled.Service(Proxy);
        var listening = Nginx.Value.Named("listen").Select(listen => int.Parse(listen.Arguments[0], System.Globalization.CultureInfo.InvariantCulture));

        Scaled.Service(ServiceNames.Api).Ports.Should().BeEmpty("replicas cannot share a host port (`ports: !reset []`)");
        proxy.Ports.Should().ContainSingle().Which.Should().Be(new ComposePort("127.0.0.1", "8000", listening.Single()),
            "http://localhost:8000 reaches nginx as it reached the single API, on the port nginx listens on");
    }

    [Fact]
    public void Nginx_ProxiesToTheApiService_OnThePortItListensOn_ResolvingEveryReplica()
    {
        var apiPort = new Uri(Scaled.Service(ServiceNames.Api).Environment["ASPNETCORE_URLS"].Replace("+", "localhost", StringComparison.Ordinal)).Port;
        var proxyPass = Nginx.Value.Named("proxy_pass").Should().ContainSingle().Subject;
        var target = new Uri(Nginx.Value.Expand(proxyPass.Arguments[0]));

        target.Host.Should().Be(ServiceNames.Api, "Docker's DNS answers the service name with every replica");
        target.Port.Should().Be(apiPort);
        proxyPass.Arguments[0].Should().StartWith("$", "a variable makes nginx resolve at request time, following scaling and restarts");
        Nginx.Value.Named("resolver").Should().ContainSingle().Which.Arguments[0].Should().Be("127.0.0.11", "Docker's embedded DNS");
    }

    [Fact]
    public void Nginx_ReplacesXForwardedFor_WithTheAddressItSaw()
    {
        var forwarded = Nginx.Value.Named("proxy_set_header").Where(header => header.Arguments[0].Equals("X-Forwarded-For", StringComparison.OrdinalIgnoreCase));

        forwarded.Should().ContainSingle().Which.Arguments[1].Should().Be("$remote_addr",
            "appending ($proxy_add_x_forwarded_for) would pass on what the client claims; the edge proxy states what it saw");
    }

    [Fact]
    public void Nginx_NeverResendsARequestThatReachedAReplica()
    {
        Nginx.Value.Named("proxy_next_upstream").SelectMany(next => next.Arguments).Should().NotContain("non_idempotent", "a POST resent to another replica could register twice");
    }

    [Fact]
    public void Api_TrustsXForwardedFor_FromTheProxyAddressOnly()
    {
        var api = Scaled.Service(ServiceNames.Api).Environment;
        var proxyAddress = Yaml.Mapping(Yaml.Mapping(Scaled.Service(Proxy).Definition, "networks")!, "default")!["ipv4_address"] as string;
        var subnet = Yaml.List(Yaml.Mapping(Yaml.Mapping(Scaled.Networks, "default")!, "ipam")!, "config")
            .OfType<IReadOnlyDictionary<string, object?>>().Single()["subnet"] as string;

        proxyAddress.Should().NotBeNull("nginx needs a fixed address for the API to name it");
        api.Where(variable => variable.Key.StartsWith("Http__KnownProxies__", StringComparison.Ordinal))
            .Should().ContainSingle().Which.Value.Should().Be(proxyAddress, "only nginx may state a client's address");
        IPNetwork.Parse(subnet!).Contains(IPAddress.Parse(proxyAddress!)).Should().BeTrue("the address belongs to the project network's subnet");
    }

    [Fact]
    public void Proxy_MountsItsConfiguration_WhereTheImageReadsIt_AndWaitsForHealthyReplicas()
    {
        var proxy = Scaled.Service(Proxy);

        proxy.Volumes.Should().ContainSingle().Which.Should().Be(new ComposeVolume("./nginx/registration.conf", "/etc/nginx/conf.d/default.conf", IsBind: true));
        Repository.Exists(ComposeFile.RepositoryPathOf("./nginx/registration.conf")).Should().BeTrue();
        proxy.DependsOn.Should().Contain(ServiceNames.Api, "service_healthy");
        string.Join(' ', proxy.HealthcheckTest!).Should().Contain("/health/live").And.Contain(Nginx.Value.Named("listen").Single().Arguments[0]);
    }

    [Fact]
    public void EveryVariable_HasADefault()
    {
        Scaled.Interpolation!.UnsetWithoutDefault.Should().BeEmpty();
    }

    [Fact]
    public void NginxConfig_ParsesVariablesBlocksAndComments()
    {
        var config = NginxConfig.Parse("""
            # a comment; with { braces }
            log_format x '$remote_addr ${request_time}s';
            server { listen 8080; set $target http://api:8080; location / { proxy_pass $target; } }
            """);

        config.Named("log_format").Single().Arguments.Should().Equal("x", "$remote_addr ${request_time}s");
        var proxyPass = config.Named("proxy_pass").Single();
        proxyPass.Blocks.Should().Equal("server", "location /");
        config.Expand(proxyPass.Arguments[0]).Should().Be("http://api:8080");
    }

    private static int Replicas(string service) =>
        int.Parse((string)Yaml.Mapping(Scaled.Service(service).Definition, "deploy")!["replicas"]!, System.Globalization.CultureInfo.InvariantCulture);
}
