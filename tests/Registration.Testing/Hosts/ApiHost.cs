extern alias Api;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Registration.Testing.Hosts;

/// <summary>
/// Registration.Api in this process, as Program.cs builds it, in the Production environment (no
/// developer exception page), with the test's settings and clock. In memory (TestServer) by default;
/// on real Kestrel sockets when a test needs what only a real server shows (chunked bodies, the
/// <c>Server</c> header, client addresses, HTTP parsing as deployed).
/// </summary>
public sealed class ApiHost : WebApplicationFactory<Api::Program>
{
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly TimeProvider _clock;

    public ApiHost(TestSettings settings, TimeProvider clock, bool overHttp = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings.ToConfiguration();
        _clock = clock;
        if (overHttp)
        {
            UseKestrel(0);
        }
    }

    /// <summary>What the API's bus consumed (the worker's expired-code events).</summary>
    public BusEvents Events { get; } = new("api");

    /// <summary>The API's own log lines, at the levels its settings name.</summary>
    public CapturedLogs Logs { get; } = new("api");

    /// <summary>Publishes <paramref name="message"/> on the API's bus, as a worker does, and waits until the API has consumed it.</summary>
    public async Task PublishAndWaitUntilConsumedAsync<T>(T message)
        where T : class
    {
        var consumedBefore = Events.Completed<T>();
        await Services.GetRequiredService<IBus>().Publish(message);
        await Eventually.HoldsAsync(() => Events.Completed<T>() > consumedBefore, $"the API consumed {typeof(T).Name}");
    }

    /// <summary>A client whose hang shows as a timeout, not as a stuck test.</summary>
    public HttpClient CreateApiClient()
    {
        var client = CreateClient();
        client.Timeout = TimeSpan.FromSeconds(30);
        return client;
    }

    /// <summary>
    /// A client of the real socket (an API started over HTTP) that sends requests as given: bodies unbuffered
    /// (a chunked body stays chunked), header values as UTF-8 bytes (the default client refuses anything but
    /// ASCII), and redirects not followed.
    /// </summary>
    public HttpClient CreateStreamingClient()
    {
        using var probe = CreateClient();
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 };
        return new HttpClient(handler) { BaseAddress = probe.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>
    /// Waits until <c>/health/ready</c> answers 200 Healthy (migrated, bus connected; a bus still
    /// connecting answers 200 "Degraded") and the API's consumer queue exists: the worker's expired-code
    /// events need it, and a publish to an exchange with no queue is lost.
    /// </summary>
    public async Task WaitUntilReadyAsync()
    {
        using var client = CreateApiClient();
        await Eventually.HoldsAsync(
            async () => (await client.GetHealthAsync("/health/ready")).IsHealthy,
            "the API is ready (database and broker healthy)",
            TimeSpan.FromSeconds(60));
        await Eventually.HoldsAsync(
            () => Services.GetRequiredService<IBusControl>().CheckHealth().Status == BusHealthStatus.Healthy,
            "the API's receive endpoint is consuming");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            if (!TestRun.ShowServiceLogs)
            {
                logging.ClearProviders();
            }

            logging.AddProvider(Logs);
        });
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton(_clock);
            services.AddConsumeObserver(_ => Events);
        });
    }
}
