using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Registration.Testing;

namespace Registration.Api.Tests.Support;

/// <summary>
/// The API in memory against real PostgreSQL and RabbitMQ, with a database and a virtual host of its own
/// (one factory per test class, through <c>IClassFixture</c>). The clock is a <see cref="FakeTimeProvider"/>:
/// tests move time with <see cref="Clock"/> instead of sleeping. bcrypt runs at work factor 4 for speed, and
/// the per-IP rate limits are off (every in-memory request comes from the same "address"); see
/// <see cref="RateLimitedApiFactory"/> for the one class that tests them.
/// </summary>
public class ApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private ExternalServices? _services;

    /// <summary>Starts on a whole second, so "exactly 60 s later" is exact to the tick.</summary>
    public FakeTimeProvider Clock { get; } = new(StartOfClock());

    /// <summary>Connection string of this factory's own database.</summary>
    public string DatabaseConnectionString { get; private set; } = string.Empty;

    /// <summary>This factory's own virtual host on the real broker.</summary>
    public RabbitMqVirtualHost VirtualHost { get; private set; } = null!;

    public TestDatabase Database => new(DatabaseConnectionString);

    public async Task InitializeAsync()
    {
        _services = await ExternalServices.GetAsync();
        DatabaseConnectionString = await _services.CreateDatabaseAsync();
        VirtualHost = await _services.CreateVirtualHostAsync();
        await BeforeStartAsync();
        // Start the host now (migrations, bus), so the first test does not pay for it inside its timing.
        StartServer();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        // Stop the host first: its pools and the bus connection go before their database and virtual host.
        await base.DisposeAsync();
        await AfterStopAsync();
        if (_services is not null)
        {
            await _services.DropDatabaseAsync(DatabaseConnectionString);
            await _services.DeleteVirtualHostAsync(VirtualHost);
        }
    }

    /// <summary>Runs after the database and virtual host exist, before the host starts.</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    /// <summary>Runs after the host stopped, before the database and virtual host are removed.</summary>
    protected virtual Task AfterStopAsync() => Task.CompletedTask;

    /// <summary>Where the API finds RabbitMQ; a subclass may put a proxy in between.</summary>
    protected virtual (string Host, int Port) RabbitMqEndpoint => (VirtualHost.Host, VirtualHost.Port);

    /// <summary>Configuration on top of the defaults below; a subclass adds or overrides keys.</summary>
    protected virtual void AddSettings(IDictionary<string, string> settings)
    {
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var (rabbitHost, rabbitPort) = RabbitMqEndpoint;
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["ConnectionStrings:Postgres"] = DatabaseConnectionString,
            ["RabbitMq:Host"] = rabbitHost,
            ["RabbitMq:Port"] = rabbitPort.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = VirtualHost.VirtualHost,
            ["RabbitMq:Username"] = VirtualHost.Username,
            ["RabbitMq:Password"] = VirtualHost.Password,
            ["Security:BcryptWorkFactor"] = "4",
            ["Outbox:PollInterval"] = "00:00:00.200",
            ["RateLimiting:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        };
        AddSettings(settings);

        // Production, as deployed: no developer exception page or other development-only behaviour.
        builder.UseEnvironment("Production");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
        });
    }

    private static DateTimeOffset StartOfClock()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }
}

/// <summary>The API with its per-IP rate limits on, and low, to see the 429 <c>too-many-requests</c>.</summary>
public sealed class RateLimitedApiFactory : ApiFactory
{
    public const int RegistrationsPerWindow = 3;

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        settings["RateLimiting:Enabled"] = "true";
        settings["RateLimiting:Window"] = "00:10:00";
        settings["RateLimiting:RegistrationsPerWindow"] = RegistrationsPerWindow.ToString(CultureInfo.InvariantCulture);
    }
}
