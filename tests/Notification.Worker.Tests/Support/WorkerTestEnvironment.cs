using Registration.Testing;
using WireMock.Server;

namespace Notification.Worker.Tests.Support;

/// <summary>
/// One test class's world: a fresh database, a fresh RabbitMQ virtual host and a WireMock
/// server standing in for the email provider.
/// </summary>
public sealed class WorkerTestEnvironment : IAsyncLifetime
{
    private ExternalServices? _services;

    public string ConnectionString { get; private set; } = string.Empty;

    public RabbitMqVirtualHost VirtualHost { get; private set; } = null!;

    public WireMockServer Provider { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _services = await ExternalServices.GetAsync();
        ConnectionString = await _services.CreateDatabaseAsync();
        VirtualHost = await _services.CreateVirtualHostAsync();
        Provider = WireMockServer.Start();
    }

    public async Task DisposeAsync()
    {
        Provider?.Stop();
        Provider?.Dispose();
        if (_services is not null)
        {
            await _services.DeleteVirtualHostAsync(VirtualHost);
            await _services.DropDatabaseAsync(ConnectionString);
        }
    }

    /// <summary>The settings every worker of the tests starts with: the Mailjet provider on WireMock and tiny delays.</summary>
    public Dictionary<string, string?> BaseSettings() => new()
    {
        ["ConnectionStrings:Postgres"] = ConnectionString,
        ["RabbitMq:Host"] = VirtualHost.Host,
        ["RabbitMq:Port"] = VirtualHost.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RabbitMq:VirtualHost"] = VirtualHost.VirtualHost,
        ["RabbitMq:Username"] = VirtualHost.Username,
        ["RabbitMq:Password"] = VirtualHost.Password,
        ["Email:Provider"] = "Mailjet",
        ["Email:BaseUrl"] = Provider.Url,
        ["Email:ApiKey"] = TestData.ApiKey,
        ["Email:ApiSecret"] = TestData.ApiSecret,
        ["Email:From"] = "Registration <no-reply@example.test>",
        ["Email:Resilience:AttemptTimeout"] = "00:00:02",
        ["Email:Resilience:TotalTimeout"] = "00:00:10",
        ["Email:Resilience:MaxRetryAttempts"] = "3",
        ["Email:Resilience:RetryBaseDelay"] = "00:00:00.010",
        ["Email:Resilience:RetryMaxDelay"] = "00:00:00.050",
        ["Email:Resilience:RetryAfterCap"] = "00:00:05",
        // Off unless a test means it: no test should trip over another's failures.
        ["Email:Resilience:BreakerMinimumThroughput"] = "1000",
        ["Consumer:ConcurrentMessageLimit"] = "4",
        ["Consumer:PrefetchCount"] = "8",
        ["Consumer:MessageRetryLimit"] = "2",
        ["Consumer:MessageRetryInitialInterval"] = "00:00:00.050",
        ["Consumer:MessageRetryMaxInterval"] = "00:00:00.200",
        ["Consumer:StopTimeout"] = "00:00:05",
    };
}
