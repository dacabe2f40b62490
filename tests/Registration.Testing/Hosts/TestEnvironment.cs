using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Notification.Worker.Infrastructure;
using Npgsql;
using Registration.Hosting;
using Xunit;

namespace Registration.Testing.Hosts;

/// <summary>
/// One test class's world (an xunit class fixture): a fresh database and RabbitMQ virtual host on the
/// shared servers, the fake email provider, one business clock, and — started on first use — a
/// <see cref="SwitchableTcpProxy"/> in front of each server, so a server "fails" for the system under
/// test only. The API and workers a test starts here are stopped here, before their database and
/// virtual host go.
/// </summary>
public class TestEnvironment : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _running = [];
    private readonly List<RabbitMqVirtualHost> _extraVirtualHosts = [];
    private readonly Lazy<SwitchableTcpProxy> _postgresProxy;
    private readonly Lazy<SwitchableTcpProxy> _brokerProxy;
    private ExternalServices? _services;
    private int _workers;
    private int _apis;

    public TestEnvironment()
    {
        _postgresProxy = new(() =>
        {
            var postgres = new NpgsqlConnectionStringBuilder(ConnectionString);
            return SwitchableTcpProxy.Start(postgres.Host!, postgres.Port);
        });
        _brokerProxy = new(() => SwitchableTcpProxy.Start(VirtualHost.Host, VirtualHost.Port));
    }

    /// <summary>
    /// The business clock (code issue and expiry) of the API and the in-process workers, starting on a
    /// whole second. It stands still unless a test moves it; transport timing (retries, timeouts) stays
    /// on the wall clock.
    /// </summary>
    public FakeTimeProvider Clock { get; } = new(StartOfClock());

    /// <summary>Direct connection string of this class's own database.</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    public RabbitMqVirtualHost VirtualHost { get; private set; } = null!;

    public FakeEmailProvider Provider { get; private set; } = null!;

    public TestDatabase Database => new(ConnectionString);

    /// <summary>PostgreSQL as the services see it when their connection string goes through <see cref="ConnectionStringVia"/>.</summary>
    public SwitchableTcpProxy PostgresProxy => _postgresProxy.Value;

    /// <summary>RabbitMQ as the services see it with <see cref="TestSettings.BrokerVia"/>.</summary>
    public SwitchableTcpProxy BrokerProxy => _brokerProxy.Value;

    public virtual async Task InitializeAsync()
    {
        var provider = FakeEmailProvider.StartAsync();
        _services = await ExternalServices.GetAsync();
        ConnectionString = await _services.CreateDatabaseAsync();
        VirtualHost = await _services.CreateVirtualHostAsync();
        Provider = await provider;
    }

    public virtual async Task DisposeAsync()
    {
        // Whatever a failed test left cut is reconnected, so that the services can stop cleanly.
        foreach (var proxy in Proxies())
        {
            proxy.TurnOn();
        }

        for (var index = _running.Count - 1; index >= 0; index--)
        {
            await _running[index].DisposeAsync();
        }

        foreach (var proxy in Proxies())
        {
            await proxy.DisposeAsync();
        }

        if (Provider is not null)
        {
            await Provider.DisposeAsync();
        }

        if (_services is not null)
        {
            await _services.DeleteVirtualHostAsync(VirtualHost);
            foreach (var extra in _extraVirtualHosts)
            {
                await _services.DeleteVirtualHostAsync(extra);
            }
            await _services.DropDatabaseAsync(ConnectionString);
        }
    }

    /// <summary>
    /// The API's settings here: this database and virtual host, bcrypt at its cheapest, rate limits off and
    /// bcrypt's per-client share out of the way (every test client is one address, loopback), the operator
    /// key, an outbox that polls often and retries within half a second, warnings only.
    /// A publish may go unconfirmed for as long as a test lasts (see <see cref="NeverWithinATest"/>).
    /// </summary>
    public TestSettings ApiSettings() => new TestSettings()
        .Database(ConnectionString)
        .Broker(VirtualHost)
        .FastBcrypt()
        .RateLimitsOff()
        .HashingSlotsPerClient(UnlimitedHashingSlots)
        .Operator()
        .Outbox(pollInterval: TimeSpan.FromMilliseconds(100), publishTimeout: NeverWithinATest, maxRetryDelay: TimeSpan.FromMilliseconds(500))
        .LogLevel("Warning");

    /// <summary>bcrypt slots per client in <see cref="ApiSettings"/>: the setting's maximum, far above any test's concurrency.</summary>
    public const int UnlimitedHashingSlots = 1024;

    /// <summary>
    /// A worker's settings here: the Mailjet API on the fake provider, the production counts of retries
    /// (3 HTTP retries per delivery, 4 message retries) with the waits shrunk to milliseconds, and the
    /// circuit breaker out of the way, and no health and metrics port (several workers share this process; a
    /// test about them picks a free port). A send may take as long as a test lasts (see <see cref="NeverWithinATest"/>).
    /// </summary>
    public TestSettings WorkerSettings() => new TestSettings()
        .Database(ConnectionString)
        .Broker(VirtualHost)
        .EmailProvider(Provider)
        .Retries(http: 3, message: 4)
        .ProviderTimeouts(attempt: NeverWithinATest, total: 2 * NeverWithinATest)
        .BreakerOff()
        .Consumers(concurrency: 4, prefetch: 8)
        .StopTimeout(TimeSpan.FromSeconds(5))
        .TelemetryPort(0);

    /// <summary>
    /// The timeout of the timers that turn one email into two: a provider call that times out is retried
    /// (and the provider may have accepted the first one), an outbox publish whose confirm times out is
    /// published again (and a second copy can reach another worker while the first is being sent). On a
    /// loaded machine a stall of a few seconds is ordinary, so in tests these timers must not be able to
    /// fire unless the test is about them; the tests that are set short timeouts of their own.
    /// </summary>
    public static readonly TimeSpan NeverWithinATest = TimeSpan.FromMinutes(5);

    /// <summary>
    /// This class's database with the worker's schema applied, as a data source (the caller disposes it): for a
    /// test that drives the worker's own database classes (<c>MessageClaims</c>, ...) without starting a worker.
    /// </summary>
    public async Task<NpgsqlDataSource> WorkerDataSourceAsync()
    {
        await SchemaMigrator.MigrateAsync(ConnectionString, NotificationWorkerExtensions.Migrations, NullLogger.Instance, CancellationToken.None);
        return NpgsqlDataSource.Create(ConnectionString);
    }

    /// <summary>
    /// Waits until a worker records message <paramref name="messageId"/> as sent, then returns the requests
    /// the provider received for it (a retried send leaves more than one).
    /// </summary>
    public async Task<IReadOnlyList<ProviderRequest>> SentRequestsAsync(Guid messageId)
    {
        await Database.WaitForOutcomeAsync(messageId, "sent");
        return Provider.RequestsFor(messageId);
    }

    /// <summary>
    /// Another virtual host on the shared broker, deleted with this environment: for a test that needs queues
    /// of its own (declared differently from the class's), e.g. with <c>settings.Broker(vhost)</c>.
    /// </summary>
    public async Task<RabbitMqVirtualHost> NewVirtualHostAsync()
    {
        var vhost = await _services!.CreateVirtualHostAsync();
        _extraVirtualHosts.Add(vhost);
        return vhost;
    }

    /// <summary>A queue's type and arguments as the broker's management API reports them; null when it does not exist.</summary>
    public async Task<QueueDescription?> DescribeQueueAsync(string queue, RabbitMqVirtualHost? vhost = null) =>
        await _services!.DescribeQueueAsync(vhost ?? VirtualHost, queue);

    /// <summary>This database reached through <see cref="PostgresProxy"/>, with changes (timeouts) to the connection string.</summary>
    public string ConnectionStringVia(SwitchableTcpProxy proxy, Action<NpgsqlConnectionStringBuilder>? change = null)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Host = "127.0.0.1", Port = proxy.Port };
        change?.Invoke(builder);
        return builder.ConnectionString;
    }

    /// <summary>Starts the API in this process, on <see cref="ApiSettings"/> with the test's changes, and waits until it is ready.</summary>
    /// <param name="clock">The business clock; <see cref="Clock"/> unless given (a test with child processes passes the system clock).</param>
    /// <param name="overHttp">Real Kestrel sockets instead of the in-memory server.</param>
    public async Task<ApiHost> StartApiAsync(
        Action<TestSettings>? configure = null, TimeProvider? clock = null, bool overHttp = false, bool waitUntilReady = true)
    {
        var settings = ApiSettings();
        configure?.Invoke(settings);
        var api = new ApiHost(settings, clock ?? Clock, overHttp);
        Track(api);
        // Migrations and the bus start here, not inside the first test's timing.
        api.StartServer();
        if (waitUntilReady)
        {
            await api.WaitUntilReadyAsync();
        }

        return api;
    }

    /// <summary>Starts a worker in this process, on <see cref="WorkerSettings"/> with the test's changes; returns once it consumes.</summary>
    public async Task<WorkerHost> StartWorkerAsync(
        Action<TestSettings>? configure = null, TimeProvider? clock = null, bool collectExpiredEvents = false, params IConsumeObserver[] observers)
    {
        var settings = WorkerSettings();
        configure?.Invoke(settings);
        var worker = await WorkerHost.StartAsync(
            $"worker-{Interlocked.Increment(ref _workers)}", settings, clock ?? Clock, observers, collectExpiredEvents);
        Track(worker);
        return worker;
    }

    /// <summary>Starts <c>dotnet Notification.Worker.dll</c> (system clock) and returns once its consumer is on the queue.</summary>
    public async Task<ServiceProcess> StartWorkerProcessAsync(Action<TestSettings>? configure = null, Action<string>? echo = null)
    {
        var settings = WorkerSettings().LogLevel("Warning", "Default", "MassTransit");
        configure?.Invoke(settings);
        var worker = await ServiceProcess.StartWorkerAsync($"worker-process-{Interlocked.Increment(ref _workers)}", settings, VirtualHost, echo);
        Track(worker);
        return worker;
    }

    /// <summary>
    /// Starts <paramref name="count"/> worker processes at the same instant (their migrations race, as in a
    /// scaled deployment) and returns once the queue has that many more consumers.
    /// </summary>
    public async Task<IReadOnlyList<ServiceProcess>> StartWorkerProcessesAsync(int count, Action<TestSettings>? configure = null)
    {
        var settings = WorkerSettings().LogLevel("Warning", "Default", "MassTransit");
        configure?.Invoke(settings);
        var before = (await Broker.InspectAsync(VirtualHost, Broker.ActivationEmailQueue))?.Consumers ?? 0;
        var workers = Enumerable.Range(0, count)
            .Select(_ => ServiceProcess.Start($"worker-process-{Interlocked.Increment(ref _workers)}", ServiceProcess.Worker, settings))
            .ToArray();
        foreach (var worker in workers)
        {
            Track(worker);
        }

        foreach (var worker in workers)
        {
            await worker.WaitUntilAsync(
                async () => ((await Broker.InspectAsync(VirtualHost, Broker.ActivationEmailQueue))?.Consumers ?? 0) >= before + count,
                $"{count} new consumers on {Broker.ActivationEmailQueue}",
                TimeSpan.FromSeconds(60));
        }

        return workers;
    }

    /// <summary>Starts <c>dotnet Registration.Api.dll</c> (system clock) on a free port; returns once it is ready.</summary>
    public async Task<ServiceProcess> StartApiProcessAsync(Action<TestSettings>? configure = null, Action<string>? echo = null)
    {
        var settings = ApiSettings();
        configure?.Invoke(settings);
        var api = await ServiceProcess.StartApiAsync($"api-process-{Interlocked.Increment(ref _apis)}", settings, echo);
        Track(api);
        return api;
    }

    /// <summary>Runs <c>dotnet Notification.Worker.dll {args}</c> (the operator's commands) to its end.</summary>
    public async Task<(int ExitCode, string Output)> RunWorkerCommandAsync(params string[] args)
    {
        return await RunUntilItExitsAsync(string.Join(' ', args), ServiceProcess.Worker, WorkerSettings().LogLevel("Warning", "Default", "MassTransit"), args);
    }

    /// <summary>Runs <c>dotnet Registration.Api.dll {args}</c> (an operator command) on this database; returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> RunApiCommandAsync(params string[] args)
    {
        return await RunUntilItExitsAsync(string.Join(' ', args), ServiceProcess.Api, ApiSettings(), args);
    }

    /// <summary>
    /// Runs <c>dotnet {service}.dll</c> (<see cref="ServiceProcess.Api"/> or <see cref="ServiceProcess.Worker"/>) on
    /// this test's settings, at the production log level, with <paramref name="configure"/>'s changes, and waits
    /// for it to end by itself: a service that must refuse to start.
    /// </summary>
    public async Task<(int ExitCode, string Output)> RunServiceUntilItExitsAsync(string service, Action<TestSettings> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var settings = (service == ServiceProcess.Api ? ApiSettings().Set("ASPNETCORE_URLS", "http://127.0.0.1:0") : WorkerSettings())
            .Set("Logging:LogLevel:Default", null);
        configure(settings);
        return await RunUntilItExitsAsync(service, service, settings, []);
    }

    private static async Task<(int ExitCode, string Output)> RunUntilItExitsAsync(string name, string service, TestSettings settings, string[] args)
    {
        await using var process = ServiceProcess.Start(name, service, settings, args);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, process.Output);
    }

    /// <summary>Stopped at disposal, last started first. Hosts may be started side by side.</summary>
    private void Track(IAsyncDisposable running)
    {
        lock (_running)
        {
            _running.Add(running);
        }
    }

    private IEnumerable<SwitchableTcpProxy> Proxies() =>
        new[] { _postgresProxy, _brokerProxy }.Where(proxy => proxy.IsValueCreated).Select(proxy => proxy.Value);

    /// <summary>A whole second, so "exactly 60 s later" is exact to the tick and times in the output read cleanly.</summary>
    private static DateTimeOffset StartOfClock()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }
}
