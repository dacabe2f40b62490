namespace Deployment.Tests;

/// <summary>
/// deploy/docker-compose.yml's defaults never turn an empty variable into a well-known value: left out, a
/// variable takes its development default; set to nothing, it stays nothing (an empty ADMIN_API_KEY closes
/// the operator routes; an empty credential or email setting makes the service refuse to start).
/// </summary>
public sealed class ComposeDefaultsTests
{
    [Theory]
    [InlineData("ADMIN_API_KEY", ServiceNames.Api, "Admin__ApiKey", "")]
    [InlineData("EMAIL_PROVIDER", ServiceNames.Worker, "Email__Provider", "")]
    [InlineData("EMAIL_BASE_URL", ServiceNames.Worker, "Email__BaseUrl", "")]
    [InlineData("RABBITMQ_PASSWORD", ServiceNames.Api, "RabbitMq__Password", "")]
    [InlineData("RABBITMQ_PASSWORD", ServiceNames.Worker, "RabbitMq__Password", "")]
    [InlineData("RABBITMQ_PASSWORD", ServiceNames.RabbitMq, "RABBITMQ_DEFAULT_PASS", "")]
    [InlineData("POSTGRES_PASSWORD", ServiceNames.Postgres, "POSTGRES_PASSWORD", "")]
    [InlineData("REGISTRATION_DB_PASSWORD", ServiceNames.Api, "ConnectionStrings__Postgres", "Host=postgres;Port=5432;Database=registration;Username=registration;Password=")]
    [InlineData("NOTIFICATION_DB_PASSWORD", ServiceNames.Worker, "ConnectionStrings__Postgres", "Host=postgres;Port=5432;Database=registration;Username=notification;Password=")]
    public void AnEmptyVariable_StaysEmpty_NotTheDevelopmentDefault(string variable, string service, string key, string expected)
    {
        var compose = ComposeFile.Load(new Dictionary<string, string>(StringComparer.Ordinal) { [variable] = string.Empty });

        compose.Service(service).Environment[key].Should().Be(expected, "{0}= (empty) must not become the development default", variable);
    }

    [Theory]
    [InlineData(ServiceNames.Api, "Admin__ApiKey", "dev-admin-key")]
    [InlineData(ServiceNames.Worker, "Email__Provider", "Mailpit")]
    [InlineData(ServiceNames.Worker, "Email__BaseUrl", "http://mailpit:8025")]
    public void AnUnsetVariable_TakesTheDevelopmentDefault(string service, string key, string expected)
    {
        ComposeFile.LoadWithDefaults().Service(service).Environment[key].Should().Be(expected);
    }

    [Theory]
    [InlineData("services/Registration.Api/Dockerfile")]
    [InlineData("services/Notification.Worker/Dockerfile")]
    [InlineData("tests/Tests.Dockerfile")]
    public void Dockerfile_NamesNoFrontendImage(string path)
    {
        // `# syntax=` makes BuildKit pull a frontend image before the build: nothing here needs one.
        Repository.ReadText(path).Split('\n').Should().NotContain(line => line.TrimStart().StartsWith("# syntax=", StringComparison.OrdinalIgnoreCase));
    }
}
