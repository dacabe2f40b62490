using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notification.Worker.Infrastructure;

namespace Resilience.Tests.Support;

/// <summary>
/// One Notification.Worker in this process, as Program.cs builds it
/// (<see cref="NotificationWorkerExtensions.AddNotificationWorker"/>), with the scenario's settings and,
/// when given, the same fake business clock as the API.
/// </summary>
public sealed class InProcessWorker : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private InProcessWorker(IHost host) => _host = host;

    /// <remarks>
    /// Async all the way: MassTransit keeps its log context in an AsyncLocal, and a host started or
    /// stopped from a synchronous call would leave a disposed logger factory to the next host.
    /// </remarks>
    public static async Task<InProcessWorker> StartAsync(IReadOnlyDictionary<string, string?> settings, TimeProvider? clock)
    {
        // No defaults: neither the worker's appsettings.json nor the machine's environment variables.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        if (ResilienceEnvironment.ShowLogs)
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Information);
        }

        builder.AddNotificationWorker();
        if (clock is not null)
        {
            builder.Services.AddSingleton(clock);
        }

        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(timeout.Token);
        return new InProcessWorker(host);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _host.StopAsync(timeout.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}
