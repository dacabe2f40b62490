using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Registration.Hosting;

namespace Notification.Worker.Infrastructure;

/// <summary>
/// <c>GET /health/live</c>, <c>GET /health/ready</c> (broker and database reachable) and <c>GET /metrics</c>
/// (Prometheus text) on <c>Telemetry:Port</c>, every interface: a small Kestrel app inside the worker, serving
/// the worker's own health checks and meters. Nothing else listens there. Started before the bus, so that
/// liveness answers while the worker waits for the broker.
/// </summary>
public sealed partial class TelemetryServer(
    IServiceProvider services,
    IOptions<TelemetryOptions> options,
    ILogger<TelemetryServer> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var port = options.Value.Port;
        // No configuration sources, no defaults: ASPNETCORE_* variables meant for others have no say here. No
        // logging either: every scrape and probe would be two lines; the checks log through the worker's own.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ListenAnyIP(port);
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(services.GetRequiredService<HealthCheckService>());

        var app = builder.Build();
        app.UseRouting();
        app.MapHealthEndpoints();
        app.MapPrometheusScrapingEndpoint("/metrics", services.GetRequiredService<MeterProvider>(), configureBranchedPipeline: _ => { }, optionsName: Options.DefaultName);
        await app.StartAsync(cancellationToken);
        _app = app;
        LogListening(logger, port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 2200, EventName = "TelemetryListening", Level = LogLevel.Information, Message = "Health and metrics on port {Port}: /health/live, /health/ready, /metrics")]
    private static partial void LogListening(ILogger logger, int port);
}
