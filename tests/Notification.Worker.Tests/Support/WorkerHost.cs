using Dapper;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notification.Worker.Infrastructure;
using Npgsql;

namespace Notification.Worker.Tests.Support;

/// <summary>
/// A worker as Program.cs builds it (<see cref="NotificationWorkerExtensions.AddNotificationWorker"/>),
/// in process, with test settings, an optional fake clock and probes on its bus.
/// </summary>
public sealed class WorkerHost : IAsyncDisposable
{
    private readonly IHost _host;

    private WorkerHost(IHost host, ConsumeProbe probe, ExpiredEvents expiredEvents)
    {
        _host = host;
        Probe = probe;
        ExpiredEvents = expiredEvents;
    }

    public IServiceProvider Services => _host.Services;

    public ConsumeProbe Probe { get; }

    public ExpiredEvents ExpiredEvents { get; }

    public static async Task<WorkerHost> StartAsync(
        WorkerTestEnvironment environment,
        IReadOnlyDictionary<string, string?>? settings = null,
        TimeProvider? clock = null,
        bool collectExpiredEvents = false)
    {
        var host = Build(environment, settings, clock, collectExpiredEvents, out var probe, out var expired);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(timeout.Token);
        // Started is not consuming yet: wait until the receive endpoints are bound.
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        return new WorkerHost(host, probe, expired);
    }

    public static IHost Build(
        WorkerTestEnvironment environment,
        IReadOnlyDictionary<string, string?>? settings,
        TimeProvider? clock,
        bool collectExpiredEvents,
        out ConsumeProbe probe,
        out ExpiredEvents expiredEvents)
    {
        ArgumentNullException.ThrowIfNull(environment);
        // No defaults: the worker's own appsettings.json and the machine's environment stay out.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Testing" });
        var values = environment.BaseSettings();
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(values);
        if (Environment.GetEnvironmentVariable("WORKER_TEST_LOGS") == "1")
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
        }

        var localProbe = new ConsumeProbe();
        var localExpired = new ExpiredEvents();
        builder.Services.AddSingleton(localProbe);
        builder.Services.AddConsumeObserver(_ => localProbe);
        builder.Services.AddSingleton(localExpired);
        builder.AddNotificationWorker(bus =>
        {
            if (collectExpiredEvents)
            {
                bus.AddConsumer<ExpiredEventCollector>();
            }
        });

        if (clock is not null)
        {
            builder.Services.AddSingleton(clock);
        }

        probe = localProbe;
        expiredEvents = localExpired;
        return builder.Build();
    }

    /// <summary>Publishes as the API's outbox does: through the broker, with the given MessageId.</summary>
    /// <remarks>
    /// Async on purpose: MassTransit keeps its log context in an AsyncLocal, and a synchronous
    /// call would leave this host's (soon disposed) logger factory to the next host of the test.
    /// </remarks>
    public async Task PublishAsync<T>(T message, Guid messageId)
        where T : class =>
        await Services.GetRequiredService<IBus>().Publish(message, context => context.MessageId = messageId);

    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _host.Dispose();
        }
    }

    /// <summary>The outcome recorded for a MessageId in notification.processed_messages, or null.</summary>
    public static async Task<string?> ProcessedOutcomeAsync(WorkerTestEnvironment environment, Guid messageId)
    {
        ArgumentNullException.ThrowIfNull(environment);
        await using var connection = new NpgsqlConnection(environment.ConnectionString);
        return await connection.QuerySingleOrDefaultAsync<string?>(
            "SELECT outcome FROM notification.processed_messages WHERE message_id = @messageId", new { messageId });
    }
}
