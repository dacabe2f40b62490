using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Registration.Testing;

namespace Registration.Bench;

/// <summary>
/// One fresh database and RabbitMQ virtual host (from the same servers the tests use), the fake
/// provider, the API as a child process, and workers on demand.
/// </summary>
public sealed class BenchEnvironment : IAsyncDisposable
{
    public const string ActivationQueue = "activation-email";

    private readonly ExternalServices _services;
    private readonly List<ServiceProcess> _workers = [];
    private ServiceProcess? _api;

    private BenchEnvironment(ExternalServices services, string connectionString, RabbitMqVirtualHost vhost, FakeProvider provider, string root)
    {
        _services = services;
        ConnectionString = connectionString;
        VirtualHost = vhost;
        Provider = provider;
        Root = root;
    }

    public string ConnectionString { get; }
    public RabbitMqVirtualHost VirtualHost { get; }
    public FakeProvider Provider { get; }
    public string Root { get; }
    public HttpClient Api { get; } = new(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    public static async Task<BenchEnvironment> StartAsync()
    {
        var services = await ExternalServices.GetAsync();
        // Loopback: no TLS to PostgreSQL, as in the compose deployment (the postgres image serves none).
        // Debian's cluster offers TLS and Npgsql prefers it, which costs a third of the worker's CPU.
        var database = new NpgsqlConnectionStringBuilder(await services.CreateDatabaseAsync()) { SslMode = SslMode.Disable }.ConnectionString;
        var vhost = await services.CreateVirtualHostAsync();
        var provider = await FakeProvider.StartAsync();
        return new BenchEnvironment(services, database, vhost, provider, FindRoot());
    }

    public async Task StartApiAsync(int workFactor)
    {
        var port = FreePort();
        var environment = Common();
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        environment["Security__BcryptWorkFactor"] = workFactor.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // One client address drives all the load: per-IP limits would measure the limiter, not the service.
        environment["RateLimiting__Enabled"] = "false";
        environment["Logging__LogLevel__Default"] = "Warning";
        _api = ServiceProcess.Start("api", Path.Combine(Root, "services/Registration.Api/bin/Release/net10.0/Registration.Api.dll"), environment);
        Api.BaseAddress = new Uri($"http://127.0.0.1:{port}");

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                using var response = await Api.GetAsync("/health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (_api.HasExited)
            {
                throw new InvalidOperationException("The API exited during start-up.");
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("The API did not become ready within 60 s.");
    }

    /// <summary>Stops any running workers, starts <paramref name="count"/> new ones and waits until they consume.</summary>
    public async Task StartWorkersAsync(int count, int concurrency)
    {
        await StopWorkersAsync();
        var dll = Path.Combine(Root, "services/Notification.Worker/bin/Release/net10.0/Notification.Worker.dll");
        for (var i = 0; i < count; i++)
        {
            var environment = Common();
            environment["Email__Provider"] = "Mailpit";
            environment["Email__BaseUrl"] = Provider.BaseUrl.ToString();
            environment["Email__From"] = "Bench <bench@registration.local>";
            environment["Consumer__ConcurrentMessageLimit"] = concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture);
            environment["Consumer__PrefetchCount"] = (concurrency * 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
            environment["Logging__LogLevel__Default"] = "Warning";
            if (Environment.GetEnvironmentVariable("BENCH_WORKER_CONNECTION_SUFFIX") is { Length: > 0 } suffix)
            {
                environment["ConnectionStrings__Postgres"] = ConnectionString + suffix;
            }

            _workers.Add(ServiceProcess.Start($"worker{i + 1}", dll, environment));
        }

        var deadline = Stopwatch.StartNew();
        while (await QueueConsumersAsync() < count)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"{count} worker(s) did not start consuming within 60 s.");
            }

            await Task.Delay(250);
        }
    }

    public async Task StopWorkersAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        _workers.Clear();
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private async Task<int> QueueConsumersAsync()
    {
        var management = Environment.GetEnvironmentVariable(ExternalServices.RabbitMqManagementVariable) is { Length: > 0 } configured
            ? new Uri(configured)
            : new Uri($"http://{VirtualHost.Host}:15672/");
        using var http = new HttpClient { BaseAddress = management };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{VirtualHost.Username}:{VirtualHost.Password}")));
        using var response = await http.GetAsync($"api/queues/{Uri.EscapeDataString(VirtualHost.VirtualHost)}/{ActivationQueue}");
        if (!response.IsSuccessStatusCode)
        {
            return 0;
        }

        var queue = await response.Content.ReadFromJsonAsync<JsonElement>();
        return queue.TryGetProperty("consumers", out var consumers) ? consumers.GetInt32() : 0;
    }

    private Dictionary<string, string> Common() => new()
    {
        ["ConnectionStrings__Postgres"] = ConnectionString,
        ["RabbitMq__Host"] = VirtualHost.Host,
        ["RabbitMq__Port"] = VirtualHost.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RabbitMq__VirtualHost"] = VirtualHost.VirtualHost,
        ["RabbitMq__Username"] = VirtualHost.Username,
        ["RabbitMq__Password"] = VirtualHost.Password,
        ["DOTNET_gcServer"] = "0",
    };

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Registration.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Run the benchmark from inside the repository (Registration.slnx not found above it).");
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
}
