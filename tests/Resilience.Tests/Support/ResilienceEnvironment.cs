using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Registration.Testing;

namespace Resilience.Tests.Support;

/// <summary>
/// One scenario's world: a fresh database and RabbitMQ virtual host on the shared servers, a
/// <see cref="SwitchableTcpProxy"/> in front of each (so a server "fails" for the system under test
/// only; the real servers, which other test projects share, are never stopped), the email provider
/// in WireMock, and the business clock. The API and workers are started by the scenario, through the
/// proxies or not; they are stopped here, before their database and virtual host go.
/// </summary>
public sealed class ResilienceEnvironment : IAsyncLifetime
{
    /// <summary>RESILIENCE_LOGS=1 shows the in-process API's and workers' logs on the console.</summary>
    public static readonly bool ShowLogs = Environment.GetEnvironmentVariable("RESILIENCE_LOGS") == "1";

    public const string AdminKey = "resilience-admin-key";

    private readonly List<IAsyncDisposable> _running = [];
    private ExternalServices? _services;
    private int _workerProcesses;

    /// <summary>The business clock (code issue and expiry) of the API and of in-process workers that ask for it.</summary>
    public FakeTimeProvider Clock { get; } = new(StartOfClock());

    /// <summary>Direct connection string of this scenario's database.</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    public RabbitMqVirtualHost VirtualHost { get; private set; } = null!;

    public EmailProvider Provider { get; private set; } = null!;

    public SwitchableTcpProxy PostgresProxy { get; private set; } = null!;

    public SwitchableTcpProxy BrokerProxy { get; private set; } = null!;

    public TestDatabase Database => new(ConnectionString);

    public async Task InitializeAsync()
    {
        _services = await ExternalServices.GetAsync();
        ConnectionString = await _services.CreateDatabaseAsync();
        VirtualHost = await _services.CreateVirtualHostAsync();
        Provider = new EmailProvider();
        var postgres = new NpgsqlConnectionStringBuilder(ConnectionString);
        PostgresProxy = SwitchableTcpProxy.Start(postgres.Host!, postgres.Port);
        BrokerProxy = SwitchableTcpProxy.Start(VirtualHost.Host, VirtualHost.Port);
    }

    public async Task DisposeAsync()
    {
        // Whatever a failed scenario left cut is reconnected, so that the services can stop cleanly.
        PostgresProxy?.TurnOn();
        BrokerProxy?.TurnOn();
        for (var index = _running.Count - 1; index >= 0; index--)
        {
            await _running[index].DisposeAsync();
        }

        if (PostgresProxy is not null)
        {
            await PostgresProxy.DisposeAsync();
        }

        if (BrokerProxy is not null)
        {
            await BrokerProxy.DisposeAsync();
        }

        Provider?.Dispose();
        if (_services is not null)
        {
            await _services.DeleteVirtualHostAsync(VirtualHost);
            await DropDatabaseAsync(_services);
        }
    }

    private async Task DropDatabaseAsync(ExternalServices services)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await services.DropDatabaseAsync(ConnectionString);
                return;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 20)
            {
                // An autovacuum worker is busy in the database (the scenarios churn rows): PostgreSQL 15 refuses
                // to let a role that is not superuser terminate it for DROP ... WITH (FORCE). It ends within moments.
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    /// <summary>
    /// Starts the API in memory and waits until it is ready (migrated, bus connected, its consumer's queue
    /// declared: the worker's expired-code events need it).
    /// </summary>
    public async Task<ApiHost> StartApiAsync(ApiSetup? setup = null)
    {
        setup ??= new ApiSetup();
        var postgres = new NpgsqlConnectionStringBuilder(ConnectionString);
        if (setup.PostgresThroughProxy)
        {
            postgres.Host = "127.0.0.1";
            postgres.Port = PostgresProxy.Port;
        }

        setup.Postgres?.Invoke(postgres);
        var (rabbitHost, rabbitPort) = setup.BrokerThroughProxy ? ("127.0.0.1", BrokerProxy.Port) : (VirtualHost.Host, VirtualHost.Port);
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["ConnectionStrings:Postgres"] = postgres.ConnectionString,
            ["RabbitMq:Host"] = rabbitHost,
            ["RabbitMq:Port"] = rabbitPort.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = VirtualHost.VirtualHost,
            ["RabbitMq:Username"] = VirtualHost.Username,
            ["RabbitMq:Password"] = VirtualHost.Password,
            ["Security:BcryptWorkFactor"] = "4",
            ["RateLimiting:Enabled"] = "false",
            ["Admin:ApiKey"] = AdminKey,
            // Seconds instead of the production waits, so an outage and its recovery fit in a test.
            ["Outbox:PollInterval"] = "00:00:00.200",
            ["Outbox:PublishTimeout"] = "00:00:01",
            ["Outbox:MaxRetryDelay"] = "00:00:00.500",
            ["Logging:LogLevel:Default"] = ShowLogs ? "Information" : "None",
            // appsettings.json names these categories: they need their own override.
            ["Logging:LogLevel:MassTransit"] = ShowLogs ? "Information" : "None",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = ShowLogs ? "Information" : "None",
        };
        foreach (var (key, value) in setup.Settings)
        {
            settings[key] = value;
        }

        var api = new ApiHost(settings, setup.UseFakeClock ? Clock : null);
        if (setup.OverHttp)
        {
            api.UseKestrel(0);
        }

        _running.Add(api);
        using var client = api.CreateApiClient();
        await Eventually.HoldsAsync(
            async () =>
            {
                using var ready = await client.GetAsync("/health/ready");
                var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
                return ready.IsSuccessStatusCode && body.TryGetProperty("status", out var status) && status.GetString() == "Healthy";
            },
            TimeSpan.FromSeconds(60),
            "the API is ready (database and broker healthy)");
        await Eventually.HoldsAsync(
            async () => await BrokerQueues.InspectAsync(VirtualHost, BrokerQueues.ExpiredBeforeDelivery) is not null,
            TimeSpan.FromSeconds(30),
            "the API's consumer queue exists");
        return api;
    }

    /// <summary>Starts a worker in this process and waits until its consumer is on the queue.</summary>
    public async Task<InProcessWorker> StartWorkerAsync(
        IReadOnlyDictionary<string, string?>? overrides = null, bool brokerThroughProxy = false, bool useFakeClock = false)
    {
        var consumersBefore = await ConsumersAsync();
        var worker = await InProcessWorker.StartAsync(WorkerSettings(overrides, brokerThroughProxy, logLevel: null), useFakeClock ? Clock : null);
        _running.Add(worker);
        await WaitForConsumersAsync(consumersBefore + 1);
        return worker;
    }

    /// <summary>Starts <c>dotnet Notification.Worker.dll</c> and waits until its consumer is on the queue.</summary>
    public async Task<WorkerProcess> StartWorkerProcessAsync(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var consumersBefore = await ConsumersAsync();
        var worker = WorkerProcess.Start(
            $"worker-process-{Interlocked.Increment(ref _workerProcesses)}", WorkerSettings(overrides, brokerThroughProxy: false, logLevel: "Warning"));
        _running.Add(worker);
        try
        {
            await WaitForConsumersAsync(consumersBefore + 1, worker);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"{exception.Message}{Environment.NewLine}{worker.Name} output:{Environment.NewLine}{worker.Output}", exception);
        }

        return worker;
    }

    /// <summary>Runs <c>dotnet Notification.Worker.dll dead-letters ...</c> to its end; returns exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> RunDeadLettersCommandAsync(params string[] args)
    {
        await using var command = WorkerProcess.Start(
            "dead-letters", WorkerSettings(overrides: null, brokerThroughProxy: false, logLevel: "Warning"), ["dead-letters", .. args]);
        var exitCode = await command.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, command.Output);
    }

    /// <summary>
    /// The worker's production retry counts, shrunk: two HTTP retries per delivery, three message retries,
    /// waits in milliseconds; the circuit breaker out of the way unless a scenario wants it.
    /// </summary>
    public Dictionary<string, string?> WorkerSettings(IReadOnlyDictionary<string, string?>? overrides, bool brokerThroughProxy, string? logLevel)
    {
        var (rabbitHost, rabbitPort) = brokerThroughProxy ? ("127.0.0.1", BrokerProxy.Port) : (VirtualHost.Host, VirtualHost.Port);
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["ConnectionStrings:Postgres"] = ConnectionString,
            ["RabbitMq:Host"] = rabbitHost,
            ["RabbitMq:Port"] = rabbitPort.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = VirtualHost.VirtualHost,
            ["RabbitMq:Username"] = VirtualHost.Username,
            ["RabbitMq:Password"] = VirtualHost.Password,
            ["Email:Provider"] = "Mailjet",
            ["Email:BaseUrl"] = Provider.Url,
            ["Email:ApiKey"] = "resilience-key",
            ["Email:ApiSecret"] = "resilience-secret",
            ["Email:From"] = "Registration <no-reply@example.test>",
            ["Email:Resilience:AttemptTimeout"] = "00:00:02",
            ["Email:Resilience:TotalTimeout"] = "00:00:10",
            ["Email:Resilience:MaxRetryAttempts"] = "2",
            ["Email:Resilience:RetryBaseDelay"] = "00:00:00.010",
            ["Email:Resilience:RetryMaxDelay"] = "00:00:00.050",
            ["Email:Resilience:RetryAfterCap"] = "00:00:01",
            ["Email:Resilience:BreakerMinimumThroughput"] = "1000",
            ["Consumer:ConcurrentMessageLimit"] = "4",
            ["Consumer:PrefetchCount"] = "8",
            ["Consumer:MessageRetryLimit"] = "3",
            ["Consumer:MessageRetryInitialInterval"] = "00:00:00.050",
            ["Consumer:MessageRetryMaxInterval"] = "00:00:00.200",
            ["Consumer:StopTimeout"] = "00:00:05",
        };
        if (logLevel is not null)
        {
            settings["Logging:LogLevel:Default"] = logLevel;
            settings["Logging:LogLevel:MassTransit"] = logLevel;
        }

        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    private async Task<uint> ConsumersAsync() =>
        (await BrokerQueues.InspectAsync(VirtualHost, BrokerQueues.ActivationEmail))?.Consumers ?? 0;

    private Task WaitForConsumersAsync(uint count, WorkerProcess? process = null) =>
        Eventually.HoldsAsync(
            async () => process is { HasExited: true }
                ? throw new InvalidOperationException($"{process.Name} exited during start-up:{Environment.NewLine}{process.Output}")
                : await ConsumersAsync() >= count,
            TimeSpan.FromSeconds(60),
            $"{count} consumer(s) on {BrokerQueues.ActivationEmail}");

    /// <summary>A whole second, so times in the output read cleanly.</summary>
    private static DateTimeOffset StartOfClock()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }
}

/// <summary>How a scenario wants the API: which connections go through the proxies, which clock, which settings.</summary>
public sealed record ApiSetup
{
    public bool PostgresThroughProxy { get; init; }

    public bool BrokerThroughProxy { get; init; }

    /// <summary>The environment's <see cref="ResilienceEnvironment.Clock"/> (true) or the system clock.</summary>
    public bool UseFakeClock { get; init; } = true;

    /// <summary>
    /// Serve over a real socket (Kestrel on a free loopback port) instead of the in-memory test server, so
    /// that requests go through HTTP parsing as deployed.
    /// </summary>
    public bool OverHttp { get; init; }

    /// <summary>Changes to the API's connection string (timeouts).</summary>
    public Action<NpgsqlConnectionStringBuilder>? Postgres { get; init; }

    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}
