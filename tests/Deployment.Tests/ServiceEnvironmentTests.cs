using Microsoft.Extensions.Configuration;

namespace Deployment.Tests;

/// <summary>
/// The environment compose gives each .NET service against what the service reads: every variable
/// is a key it reads, the required ones are set, and the values bind and validate as at start-up.
/// </summary>
public sealed class ServiceEnvironmentTests
{
    private const string Defaults = "defaults";

    /// <summary>Compose service, its assembly, and its project directory.</summary>
    public static TheoryData<string, string, string> Services => new()
    {
        { ServiceNames.Api, "Registration.Api", "services/Registration.Api" },
        { ServiceNames.Worker, "Notification.Worker", "services/Notification.Worker" },
    };

    public const string ScaledDefaults = "scaled defaults";
    public const string ScaledEnvExample = "scaled with " + ComposeFile.EnvExampleRelativePath;

    public static TheoryData<string, string, string, string> ServicesAndVariableSources
    {
        get
        {
            var data = new TheoryData<string, string, string, string>();
            foreach (var source in new[] { Defaults, ComposeFile.EnvExampleRelativePath, ScaledDefaults, ScaledEnvExample })
            {
                data.Add(ServiceNames.Api, "Registration.Api", "services/Registration.Api", source);
                data.Add(ServiceNames.Worker, "Notification.Worker", "services/Notification.Worker", source);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void ImageEntryPoint_RunsTheServiceAssembly(string service, string assembly, string projectDirectory)
    {
        var dockerfile = Dockerfile.Load(ComposeFile.LoadWithDefaults().Service(service).Build!.Dockerfile);

        dockerfile.FinalStage.Instructions.Last(i => i.Keyword == "ENTRYPOINT").Words.Should().Contain($"{assembly}.dll");
        Repository.Exists($"{projectDirectory}/{assembly}.csproj").Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(ServicesAndVariableSources))]
    public void EveryVariable_IsAConfigurationKeyTheServiceReads(string service, string assembly, string projectDirectory, string variables)
    {
        var configuration = ServiceConfiguration.Of(assembly, projectDirectory);
        var environment = Load(variables).Service(service).Environment;

        var unread = environment.Keys.Where(name => configuration.WhyItReads(ServiceConfiguration.KeyOf(name)) is null).ToArray();

        unread.Should().BeEmpty(
            $"{service} would ignore them: {assembly} reads {string.Join(", ", configuration.Sections.SelectMany(s => s.Keys))}, "
            + "plus its appsettings.json, the keys its code names, and the host's own");
    }

    [Theory]
    [InlineData(ServiceNames.Api)]
    [InlineData(ServiceNames.Worker)]
    public void RequiredSettings_AreSet(string service)
    {
        var environment = ComposeFile.LoadWithDefaults().Service(service).Environment;
        List<string> required = ["ConnectionStrings__Postgres", "RabbitMq__Host", "RabbitMq__Username", "RabbitMq__Password"];
        if (service == ServiceNames.Api)
        {
            required.AddRange(["ASPNETCORE_URLS", "Admin__ApiKey"]);
        }
        else
        {
            required.AddRange(["Email__Provider", "Email__BaseUrl"]);
        }

        foreach (var name in required)
        {
            environment.Should().ContainKey(name);
            environment[name].Should().NotBeNullOrWhiteSpace($"{service} needs {name}");
        }
    }

    [Theory]
    [MemberData(nameof(ServicesAndVariableSources))]
    public void Settings_BindAndValidate_AsAtStartUp(string service, string assembly, string projectDirectory, string variables)
    {
        var compose = Load(variables);
        var configuration = ServiceConfiguration.Of(assembly, projectDirectory);

        configuration.Sections.Should().NotBeEmpty($"{assembly} binds options classes with a SectionName");
        configuration.BindAndValidate(compose.Service(service).Environment).Should().BeEmpty(
            $"{service} would refuse to start with these settings ({variables})");
    }

    private static ComposeFile Load(string variables) => variables switch
    {
        Defaults => ComposeFile.LoadWithDefaults(),
        ScaledDefaults => ComposeFile.LoadScaledWithDefaults(),
        ScaledEnvExample => ComposeFile.LoadScaledWithEnvExample(),
        _ => ComposeFile.LoadWithEnvExample(),
    };

    [Fact]
    public void ContractSettings_DefaultToTheServiceOwnDefaults()
    {
        // Activation and Security are the product's contract (a code lives one minute, ...): the
        // compose defaults must not quietly change them.
        var configuration = ServiceConfiguration.Api;
        var environment = ComposeFile.LoadWithDefaults().Service(ServiceNames.Api).Environment;
        var settings = new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(e => new KeyValuePair<string, string?>(ServiceConfiguration.KeyOf(e.Key), e.Value)))
            .Build();

        foreach (var section in configuration.Sections.Where(s => s.Name is "Activation" or "Security"))
        {
            var bound = Activator.CreateInstance(section.Type)!;
            settings.GetSection(section.Name).Bind(bound);

            bound.Should().BeEquivalentTo(Activator.CreateInstance(section.Type), $"compose's {section.Name} settings");
        }
    }
}
