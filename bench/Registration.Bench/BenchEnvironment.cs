using System.Globalization;
using Npgsql;
using Registration.Testing.Fakes;
using Registration.Testing.Hosts;
using Registration.Testing.Servers;
using Registration.Testing.Settings;

namespace Registration.Bench;

/// <summary>
/// One fresh database and RabbitMQ virtual host (from the same servers the tests use), the tests' fake
/// email provider, the API as a child process, and workers on demand: the services run from their
/// Release builds with production settings, but for what the benchmark must change.
/// </summary>
public sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly ExternalServices _services;
    private readonly List<ServiceProcess> _workers = [];
    private ServiceProcess? _api;

    private BenchEnvironment(ExternalServices services, string connectionString, RabbitMqVirtualHost vhost, FakeEmailProvider provider)
    {
        _services = services;
        ConnectionString = connectionString;
        VirtualHost = vhost;
        Provider = provider;
    }

    /// <summary><c>Security:HashingQueueTimeout</c> of the API here (its default, set explicitly: the overload targets use it).</summary>
    public static readonly TimeSpan HashingQueueTimeout = TimeSpan.FromSeconds(2);

    public string ConnectionString { get; }
    public RabbitMqVirtualHost VirtualHost { get; }
    public FakeEmailProvider Provider { get; }
    /// <summary>A client of the running API (a new one each time the API is started).</summary>
    public HttpClient Api { get; private set; } = NewClient(null);

    public static async Task<BenchEnvironment> StartAsync()
    {
        var services = await ExternalServices.GetAsync();
        // Loopback: no TLS to PostgreSQL, as in the compose deployment (the postgres image serves none).
        // Debian's cluster offers TLS and Npgsql prefers it, which costs a third of the worker's CPU.
        var database = new NpgsqlConnectionStringBuilder(await services.CreateDatabaseAsync()) { SslMode = SslMode.Disable }.ConnectionString;
        var vhost = await services.CreateVirtualHostAsync();
        var provider = await FakeEmailProvider.StartAsync();
        return new BenchEnvironment(services, database, vhost, provider);
    }

    /// <summary>Starts the API at <paramref name="workFactor"/>, stopping the one running, if any.</summary>
    public async Task StartApiAsync(int workFactor)
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
            _api = null;
        }

        var settings = Common()
            .BcryptWorkFactor(workFactor)
            // One client address drives all the load: per-IP limits and bcrypt's per-client share would
            // measure those limits, not the service (the design asks a load test to raise them and say so).
            .RateLimitsOff()
            .HashingSlotsPerClient(TestEnvironment.UnlimitedHashingSlots)
            .Set("Security:HashingQueueTimeout", HashingQueueTimeout);
        _api = await ServiceProcess.StartApiAsync("api", settings, Echo("api"));
        Api.Dispose();
        Api = NewClient(_api.BaseAddress);
    }

    /// <summary>Stops any running workers, starts <paramref name="count"/> new ones and waits until they consume.</summary>
    public async Task StartWorkersAsync(int count, int concurrency)
    {
        await StopWorkersAsync();
        for (var i = 0; i < count; i++)
        {
            var name = $"worker{i + 1}";
            var settings = Common()
                .EmailProvider(Provider, EmailApi.Mailpit)
                .Set("Email:ApiKey", null)
                .Set("Email:ApiSecret", null)
                .Set("Email:From", "Bench <bench@registration.local>")
                .Consumers(concurrency, prefetch: concurrency * 2)
                // Each worker serves its health and metrics endpoints, as in production, on a port of its own.
                .TelemetryPort(FreePort.Next());
            if (Environment.GetEnvironmentVariable("BENCH_WORKER_CONNECTION_SUFFIX") is { Length: > 0 } suffix)
            {
                settings.Database(ConnectionString + suffix);
            }

            _workers.Add(await ServiceProcess.StartWorkerAsync(name, settings, VirtualHost, Echo(name)));
        }
    }

    /// <summary>Stops any running workers and starts the bare consumer (<see cref="RawConsumer"/>) with the workers' settings.</summary>
    public async Task StartRawConsumerAsync(int concurrency)
    {
        await StopWorkersAsync();
        var settings = Common()
            .EmailProvider(Provider, EmailApi.Mailpit)
            .Set("Email:From", "bench@registration.local")
            .Consumers(concurrency, prefetch: concurrency * 2);
        _workers.Add(await ServiceProcess.StartConsumerAsync(
            "raw", typeof(RawConsumer).Assembly.Location, [RawConsumer.Command], settings, VirtualHost, Echo("raw")));
    }

    public async Task StopWorkersAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
            Console.Error.WriteLine($"  ({worker.Name} stopped)");
        }

        _workers.Clear();
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        await StopWorkersAsync();
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        Api.Dispose();
        await Provider.DisposeAsync();
        await _services.DeleteVirtualHostAsync(VirtualHost);
        await _services.DropDatabaseAsync(ConnectionString);
    }

    private static HttpClient NewClient(Uri? baseAddress) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };

    private TestSettings Common() => new TestSettings().Database(ConnectionString).Broker(VirtualHost).LogLevel("Warning");

    /// <summary>Only warnings and errors, prefixed: the benchmark's tables stay readable.</summary>
    private static Action<string> Echo(string name) => line =>
    {
        if (line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("crit", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{name}] {line}"));
        }
    };
}
