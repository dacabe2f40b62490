using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notification.Worker.Infrastructure;

namespace Registration.Testing.Hosts;

/// <summary>
/// One Notification.Worker in this process, as Program.cs builds it
/// (<see cref="NotificationWorkerExtensions.AddNotificationWorker"/>), with the test's settings and
/// clock, a <see cref="BusEvents"/> probe on its bus and its log lines kept.
/// </summary>
/// <remarks>
/// Async all the way: MassTransit keeps its log context in an AsyncLocal, and a host started or stopped
/// from a synchronous call would leave its (soon disposed) logger factory to the next host.
/// </remarks>
public sealed class WorkerHost : IAsyncDisposable
{
    private readonly IHost _host;
    private int _stopped;

    private WorkerHost(IHost host, BusEvents events, CapturedLogs logs, ExpiredEvents expiredEvents)
    {
        _host = host;
        Events = events;
        Logs = logs;
        ExpiredEvents = expiredEvents;
    }

    public string Name => Events.Host;

    public IServiceProvider Services => _host.Services;

    public BusEvents Events { get; }

    /// <summary>The worker's own log lines (Information and up; MassTransit's from Warning).</summary>
    public CapturedLogs Logs { get; }

    /// <summary>The expired-code events the worker published, when started to collect them.</summary>
    public ExpiredEvents ExpiredEvents { get; }

    /// <summary>Starts the worker and returns once its receive endpoints consume.</summary>
    /// <param name="collectExpiredEvents">Stand in for the API's consumer of the worker's expired-code events.</param>
    public static async Task<WorkerHost> StartAsync(
        string name,
        TestSettings settings,
        TimeProvider clock,
        IReadOnlyList<IConsumeObserver>? observers = null,
        bool collectExpiredEvents = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // No defaults: neither the worker's appsettings.json nor the machine's environment variables.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings.ToConfiguration()!);
        var logs = new CapturedLogs(name);
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Information).AddFilter("MassTransit", LogLevel.Warning);
        if (TestRun.ShowServiceLogs)
        {
            builder.Logging.AddSimpleConsole();
        }

        var events = new BusEvents(name);
        builder.Services.AddConsumeObserver(_ => new ConsumeObservers([events, .. observers ?? []]));
        var expiredEvents = new ExpiredEvents();
        builder.Services.AddSingleton(expiredEvents);
        builder.AddNotificationWorker(bus =>
        {
            if (collectExpiredEvents)
            {
                bus.AddConsumer<ExpiredEventCollector>();
            }
        });
        builder.Services.AddSingleton(clock);

        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await host.StartAsync(timeout.Token);
        }
        catch
        {
            // A worker that refuses to start (a test about it) leaves nothing running behind.
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
            throw;
        }

        // Started is not consuming yet: wait until the receive endpoints are bound, so that a test which
        // publishes right away (e.g. two workers expected to share a queue) sees every worker take part.
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        return new WorkerHost(host, events, logs, expiredEvents);
    }

    /// <summary>Publishes as the API's outbox does: through the broker, with the given MessageId.</summary>
    public async Task PublishAsync<T>(T message, Guid messageId)
        where T : class =>
        await Services.GetRequiredService<IBus>().Publish(message, context => context.MessageId = messageId);

    /// <summary>Stops as on SIGTERM: in-flight sends get the stop timeout to finish. Once; later calls do nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

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
