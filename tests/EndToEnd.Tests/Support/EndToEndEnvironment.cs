using System.Globalization;
using MassTransit;
using Microsoft.Extensions.Time.Testing;
using Registration.Testing;

namespace EndToEnd.Tests.Support;

/// <summary>
/// One test class's world: a fresh database and RabbitMQ virtual host, the fake email provider, the
/// API in memory, and one clock that the API and every worker read. Workers are started by the tests
/// (before their first registration: the outbox publishes with Mandatory, so a message with no bound
/// queue is retried later, which would only slow the test).
/// </summary>
public sealed class EndToEndEnvironment : IAsyncLifetime
{
    /// <summary>E2E_LOGS=1 shows the API's and the workers' logs on the console.</summary>
    public static readonly bool ShowLogs = Environment.GetEnvironmentVariable("E2E_LOGS") == "1";

    private ExternalServices? _services;
    private int _workerCount;

    /// <summary>
    /// The business clock of the API and the workers (code issue and expiry). It stands still unless a
    /// test moves it; transport timing (retries, timeouts) stays on the wall clock.
    /// </summary>
    public FakeTimeProvider Clock { get; } = new(StartOfClock());

    public string ConnectionString { get; private set; } = string.Empty;

    public RabbitMqVirtualHost VirtualHost { get; private set; } = null!;

    public FakeEmailProvider Provider { get; private set; } = null!;

    public ApiHost Api { get; private set; } = null!;

    /// <summary>A client of the in-memory API.</summary>
    public HttpClient Client { get; private set; } = null!;

    public EndToEndDatabase Database => new(ConnectionString);

    public async Task InitializeAsync()
    {
        _services = await ExternalServices.GetAsync();
        ConnectionString = await _services.CreateDatabaseAsync();
        VirtualHost = await _services.CreateVirtualHostAsync();
        Provider = new FakeEmailProvider();
        Api = new ApiHost(this);
        Client = Api.CreateClient();

        // The API's bus starts in the background; the worker's expired-code events need its queue.
        await Eventually.GetAsync(
            () => Broker.QueueExistsAsync(VirtualHost, Broker.ExpiredBeforeDeliveryQueue), exists => exists, "the API's consumer queue");
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }

        Provider?.Dispose();
        if (_services is not null)
        {
            await _services.DeleteVirtualHostAsync(VirtualHost);
            await _services.DropDatabaseAsync(ConnectionString);
        }
    }

    /// <summary>Starts a worker on this environment with the test settings (tiny retry intervals) and any overrides.</summary>
    public Task<WorkerHost> StartWorkerAsync(
        IReadOnlyDictionary<string, string?>? overrides = null, params IConsumeObserver[] observers)
    {
        var settings = WorkerSettings();
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var name = $"worker-{Interlocked.Increment(ref _workerCount)}";
        return WorkerHost.StartAsync(name, settings, Clock, observers);
    }

    /// <summary>
    /// The production counts of retries (3 HTTP retries per delivery, 4 message retries) with the waits
    /// shrunk to milliseconds. The circuit breaker is out of the way: tests that fail many sends must
    /// see each of them reach the provider.
    /// </summary>
    private Dictionary<string, string?> WorkerSettings() => new()
    {
        ["ConnectionStrings:Postgres"] = ConnectionString,
        ["RabbitMq:Host"] = VirtualHost.Host,
        ["RabbitMq:Port"] = VirtualHost.Port.ToString(CultureInfo.InvariantCulture),
        ["RabbitMq:VirtualHost"] = VirtualHost.VirtualHost,
        ["RabbitMq:Username"] = VirtualHost.Username,
        ["RabbitMq:Password"] = VirtualHost.Password,
        ["Email:Provider"] = "Mailjet",
        ["Email:BaseUrl"] = Provider.Url,
        ["Email:ApiKey"] = "e2e-key",
        ["Email:ApiSecret"] = "e2e-secret",
        ["Email:From"] = "Registration <no-reply@example.test>",
        ["Email:Resilience:AttemptTimeout"] = "00:00:02",
        ["Email:Resilience:TotalTimeout"] = "00:00:10",
        ["Email:Resilience:MaxRetryAttempts"] = "3",
        ["Email:Resilience:RetryBaseDelay"] = "00:00:00.010",
        ["Email:Resilience:RetryMaxDelay"] = "00:00:00.040",
        ["Email:Resilience:RetryAfterCap"] = "00:00:01",
        ["Email:Resilience:BreakerMinimumThroughput"] = "1000",
        ["Consumer:ConcurrentMessageLimit"] = "4",
        ["Consumer:PrefetchCount"] = "8",
        ["Consumer:MessageRetryLimit"] = "4",
        ["Consumer:MessageRetryInitialInterval"] = "00:00:00.050",
        ["Consumer:MessageRetryMaxInterval"] = "00:00:00.400",
        ["Consumer:StopTimeout"] = "00:00:05",
    };

    /// <summary>A whole second, so times in the output read cleanly.</summary>
    private static DateTimeOffset StartOfClock()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }
}
