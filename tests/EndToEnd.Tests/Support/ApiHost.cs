extern alias Api;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace EndToEnd.Tests.Support;

/// <summary>
/// Registration.Api in memory, as Program.cs builds it, on the environment's database, virtual host
/// and clock. Production environment; bcrypt at work factor 4 and rate limits off, for speed.
/// </summary>
public sealed class ApiHost(EndToEndEnvironment environment) : WebApplicationFactory<Api::Program>
{
    public BusEvents Events { get; } = new("api");

    /// <summary>The API's own log lines (Registration.Api at Information and up).</summary>
    public CapturedLogs Logs { get; } = new("api");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var vhost = environment.VirtualHost;
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = environment.ConnectionString,
            ["RabbitMq:Host"] = vhost.Host,
            ["RabbitMq:Port"] = vhost.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = vhost.VirtualHost,
            ["RabbitMq:Username"] = vhost.Username,
            ["RabbitMq:Password"] = vhost.Password,
            ["Security:BcryptWorkFactor"] = "4",
            ["RateLimiting:Enabled"] = "false",
            ["Outbox:PollInterval"] = "00:00:00.100",
            ["Outbox:MaxRetryDelay"] = "00:00:00.500",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Registration.Api"] = "Information",
        };

        builder.UseEnvironment("Production");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            if (!EndToEndEnvironment.ShowLogs)
            {
                logging.ClearProviders();
            }

            logging.AddProvider(Logs);
        });
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(environment.Clock);
            services.AddConsumeObserver(_ => Events);
        });
    }
}
